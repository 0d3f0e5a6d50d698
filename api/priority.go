package api

import "strconv"

// CanonicalPriority returns the task priority s stands for in its shortest
// decimal form: a priority is a decimal integer in the range of a signed
// 32-bit integer, with an optional sign and any number of leading zeros
// ("+7", "007" and "-0" are the priorities 7, 7 and 0). A priority is
// recorded and shown as that integer, never as the text it was given in:
// the model sets no length on taskPriority, and a priority given with a
// million leading zeros, kept as given, was copied into every event that
// carries it (each DecisionTaskScheduled of the run, each
// ActivityTaskScheduled of a type that has it as its default), a megabyte
// each. s is returned as it is when it is not a priority (the callers
// have refused such a value already) and when it is "" (none given).
func CanonicalPriority(s string) string {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return s
	}
	return strconv.FormatInt(n, 10)
}
