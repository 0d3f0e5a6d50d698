package clock

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrNegative: a clock only moves forward.
var ErrNegative = errors.New("a duration to move the clock by must not be negative: the clock never goes backwards")

// errSyntax is returned for a duration ParseDuration cannot read.
var errSyntax = errors.New("not a duration such as 90s, 15m, 24h, 7d or 1d12h")

// ErrTooLong: a duration longer than MaxDuration, more than one move can
// take (Set moves the clock to a time, however far).
var ErrTooLong = errors.New("a duration to move the clock by must be at most 106751 days (about 292 years)")

// ErrPrecision: the clock counts whole milliseconds (Precision), and a
// duration with a part below one would move it by less than it says.
var ErrPrecision = errors.New("a duration to move the clock by must be a whole number of milliseconds")

// MaxDuration bounds one move of the clock (about 292 years, what a
// time.Duration holds).
const MaxDuration = time.Duration(math.MaxInt64)

var units = map[string]float64{
	"ns": float64(time.Nanosecond), "us": float64(time.Microsecond), "µs": float64(time.Microsecond),
	"ms": float64(time.Millisecond), "s": float64(time.Second), "m": float64(time.Minute),
	"h": float64(time.Hour), "d": float64(24 * time.Hour),
}

// ParseDuration reads how far to move a clock: a number of seconds
// ("86400", as SWF writes durations, or "1.5", as the admin API's JSON
// number and swf's "or seconds" allow), or numbers with units as Go writes
// durations, with days too ("90s", "1.5h", "7d", "1d12h"). A negative
// duration is ErrNegative (but a negative zero, "-0s", is zero), one
// longer than MaxDuration ErrTooLong, one that is not a whole number of
// milliseconds ("1500us") ErrPrecision; anything else unreadable is an
// error that says what is expected.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		if d, err := ParseDuration(s[1:]); err == nil && !strings.HasPrefix(s[1:], "-") {
			if d == 0 {
				return 0, nil // a negative zero ("-0s", a JSON -0.0) is zero
			}
			return 0, ErrNegative
		}
		return 0, errSyntax
	}
	if s == "" {
		return 0, errSyntax
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		if n > uint64(MaxDuration/time.Second) {
			return 0, ErrTooLong
		}
		return time.Duration(n) * time.Second, nil
	}
	if isDecimal(s) {
		return ParseDuration(s + "s") // seconds with a fraction: "1.5"
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		num, err := strconv.ParseFloat(s[:i], 64)
		if i == 0 || err != nil {
			return 0, errSyntax
		}
		s = s[i:]
		j := 0
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		unit, ok := units[s[:j]]
		if !ok {
			return 0, errSyntax
		}
		s = s[j:]
		total += num * unit
	}
	if total >= float64(MaxDuration) {
		return 0, ErrTooLong
	}
	// Whole milliseconds, but for what float64 cannot tell apart from
	// them: a ten-thousandth of a nanosecond per ten days or so.
	ms := math.Round(total / float64(Precision))
	if math.Abs(total-ms*float64(Precision)) > math.Max(0.5, total*1e-15) {
		return 0, ErrPrecision
	}
	return time.Duration(ms) * Precision, nil
}

// isDecimal reports whether s is digits with one dot between them ("1.5",
// "0.001"): a number of seconds with a fraction.
func isDecimal(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	return dot && whole != "" && frac != "" && strings.Trim(whole+frac, "0123456789") == ""
}
