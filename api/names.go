package api

import "unicode/utf8"

// NameProblem reports how s breaks SWF's rule for names — of domains,
// types and their versions, task lists, activity, timer and workflow ids —
// as the constraint a ValidationException states, or "" when it does not.
// A name must not contain ':', '/', '|' or a control character (C0 or C1),
// must be valid UTF-8, and must not be the literal "arn". U+FFFD, the
// replacement character, is a character like any other: a client may send
// it (escaped or as its three bytes), and it is taken and kept as sent;
// only bytes that are not UTF-8 are refused. An empty s is left to the
// required-member checks. The API's checks (package internal/validate) and
// the decisions' (package history) both use it, so one name gets one answer
// and one message wherever it appears.
func NameProblem(s string) string { return nameProblem(s, false) }

// DecisionWorkflowIDProblem is NameProblem for a workflowId a decision
// names (a child to start, an execution to signal or to cancel), where ':'
// and '/' are allowed. The AWS Flow Framework for Java, AWS Flow for Ruby
// and botoflow all name child workflows "<parent runId>:<n>" by default,
// and run ids themselves contain '/' and '+'; those defaults run on the
// real service, so it accepts such ids in decisions. '|', control
// characters and the literal "arn" stay refused: nothing shows the real
// service accepting them.
func DecisionWorkflowIDProblem(s string) string { return nameProblem(s, true) }

func nameProblem(s string, colonSlashOK bool) string {
	if s == "" {
		return ""
	}
	if s == "arn" {
		return "Member must not be the literal string 'arn'"
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			// A byte that is not UTF-8. (A request body is checked for
			// them before its names are, and a lone surrogate's escape
			// is refused there too, naming the member; a real U+FFFD
			// decodes in three bytes and is not refused.)
			return "Member must be valid UTF-8"
		case (r == ':' || r == '/') && !colonSlashOK:
			return "Member must not contain ':', '/', '|' or control characters"
		case r == '|' || r <= 0x1f || (r >= 0x7f && r <= 0x9f):
			if colonSlashOK {
				return "Member must not contain '|' or control characters"
			}
			return "Member must not contain ':', '/', '|' or control characters"
		}
	}
	return ""
}
