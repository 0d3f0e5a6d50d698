package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/swfd/swfd/api"
)

// paramError is an error in one argument's value, printed as the AWS CLI
// prints it: "Error parsing parameter '--x': ...".
type paramError struct {
	flag string
	msg  string
}

func (e *paramError) Error() string {
	return fmt.Sprintf("Error parsing parameter '%s': %s", e.flag, e.msg)
}

// readParamFile loads file://, fileb:// and http(s):// values as the AWS
// CLI v1 does. ok is false when s has none of these prefixes.
func readParamFile(s string) (v string, ok bool, err error) {
	switch {
	case strings.HasPrefix(s, "file://"), strings.HasPrefix(s, "fileb://"):
		path := s[strings.Index(s, "://")+3:]
		path = os.ExpandEnv(path)
		if strings.HasPrefix(path, "~/") {
			if home, herr := os.UserHomeDir(); herr == nil {
				path = filepath.Join(home, path[2:])
			}
		}
		data, rerr := os.ReadFile(path)
		if rerr != nil {
			return "", true, fmt.Errorf("Unable to load paramfile %s: %s", s, pyFileError(rerr, path))
		}
		if strings.HasPrefix(s, "fileb://") {
			return string(data), true, nil
		}
		// file:// is read as text, as Python reads it: UTF-8, with
		// universal newlines (CRLF and CR become LF).
		if !utf8.Valid(data) {
			return "", true, fmt.Errorf("Unable to load paramfile (%s), text contents could not be decoded.  If this is a binary file, please use the fileb:// prefix instead of the file:// prefix.", path)
		}
		text := strings.ReplaceAll(string(data), "\r\n", "\n")
		return strings.ReplaceAll(text, "\r", "\n"), true, nil
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		resp, gerr := http.Get(s)
		if gerr != nil {
			return "", true, fmt.Errorf("Unable to retrieve %s: %v", s, gerr)
		}
		defer resp.Body.Close()
		data, rerr := io.ReadAll(resp.Body)
		if rerr != nil || resp.StatusCode != 200 {
			return "", true, fmt.Errorf("Unable to retrieve %s: received non 200 status code of %d", s, resp.StatusCode)
		}
		return string(data), true, nil
	}
	return "", false, nil
}

// pyFileError words a failed read of path as Python's OSError does, which
// is what the AWS CLI prints: "[Errno 2] No such file or directory:
// 'PATH'". An error without a system error number is left in Go's words.
func pyFileError(err error, path string) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	return pyOSError(err) + ": " + pyRepr(path)
}

// pyRepr quotes s as Python's repr of a string does: in single quotes,
// or double ones when s holds a single quote and no double one, with
// backslashes and the quote used escaped.
func pyRepr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	return q + strings.ReplaceAll(s, q, `\`+q) + q
}

// pyBytes is the content of a fileb:// file, which Python holds as bytes.
type pyBytes string

// String writes the bytes as Python's repr does: b'…', printable ASCII as
// it is, \t, \n, \r and \\ escaped, any other byte as \xNN, in single
// quotes unless only double quotes avoid escaping.
func (b pyBytes) String() string {
	q := byte('\'')
	if strings.Contains(string(b), "'") && !strings.Contains(string(b), `"`) {
		q = '"'
	}
	var out strings.Builder
	out.WriteString("b" + string(q))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == q || c == '\\':
			out.WriteByte('\\')
			out.WriteByte(c)
		case c == '\t':
			out.WriteString(`\t`)
		case c == '\n':
			out.WriteString(`\n`)
		case c == '\r':
			out.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&out, `\x%02x`, c)
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte(q)
	return out.String()
}

// resolveParamFile replaces a file:// (etc.) value by the content.
func resolveParamFile(flag, s string) (string, error) {
	v, ok, err := readParamFile(s)
	if err != nil {
		return "", &paramError{flag, err.Error()}
	}
	if ok {
		return v, nil
	}
	return s, nil
}

// convertArg turns the raw command-line value(s) of a parameter into a
// request value.
func convertArg(p *param, raw []string) (any, error) {
	flag := "--" + p.flag
	sh := p.shape
	if len(raw) == 1 {
		s, err := resolveParamFile(flag, raw[0])
		if err != nil {
			return nil, err
		}
		if sh.Type == "string" && strings.HasPrefix(raw[0], "fileb://") {
			// Bytes, which no string parameter takes: validation
			// refuses them, as the AWS CLI's does.
			return pyBytes(s), nil
		}
		raw = []string{s}
	}
	switch sh.Type {
	case "integer", "long":
		n, err := strconv.ParseInt(strings.TrimSpace(raw[0]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid literal for int() with base 10: '%s'", raw[0])
		}
		return json.Number(strconv.FormatInt(n, 10)), nil
	case "boolean":
		return !strings.EqualFold(raw[0], "false"), nil
	case "string", "timestamp":
		return raw[0], nil
	case "structure":
		v := raw[0]
		if strings.HasPrefix(strings.TrimLeft(v, " \t\r\n"), "{") {
			return parseJSONArg(flag, v)
		}
		parsed, err := parseShorthand(v)
		if err != nil {
			return nil, &paramError{flag, err.Error()}
		}
		return shapeShorthand(sh, parsed)
	case "list":
		if len(raw) == 1 && strings.HasPrefix(strings.TrimSpace(raw[0]), "[") {
			return parseJSONArg(flag, raw[0])
		}
		elem := shape(sh.Member)
		out := []any{}
		for _, r := range raw {
			switch {
			case elem.Type == "structure" && strings.HasPrefix(strings.TrimLeft(r, " \t\r\n"), "{"):
				v, err := parseJSONArg(flag, r)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			case elem.Type == "structure":
				parsed, err := parseShorthand(r)
				if err != nil {
					return nil, &paramError{flag, err.Error()}
				}
				v, err := shapeShorthand(elem, parsed)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			default:
				out = append(out, r)
			}
		}
		return out, nil
	}
	return raw[0], nil
}

func parseJSONArg(flag, s string) (any, error) {
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, &paramError{flag, fmt.Sprintf("Invalid JSON: %v\nJSON received: %s", err, s)}
	}
	return v, nil
}

// shapeShorthand adjusts a parsed shorthand value to the shape, as the AWS
// CLI does: integers and booleans are converted, a single value where a
// list is expected becomes a one-element list. Unknown keys are left for
// validation to report.
func shapeShorthand(sh *api.Shape, v any) (any, error) {
	switch sh.Type {
	case "structure":
		o, ok := v.(*omap)
		if !ok {
			return v, nil
		}
		for _, m := range sh.Members {
			mv, ok := o.get(m.Name)
			if !ok {
				continue
			}
			nv, err := shapeShorthand(shape(m.Shape), mv)
			if err != nil {
				return nil, err
			}
			o.set(m.Name, nv)
		}
		return o, nil
	case "list":
		l, ok := v.([]any)
		if !ok {
			return []any{v}, nil
		}
		elem := shape(sh.Member)
		for i, e := range l {
			ne, err := shapeShorthand(elem, e)
			if err != nil {
				return nil, err
			}
			l[i] = ne
		}
		return l, nil
	case "integer", "long":
		if s, ok := v.(string); ok {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid literal for int() with base 10: '%s'", s)
			}
			return json.Number(strconv.FormatInt(n, 10)), nil
		}
	case "boolean":
		if s, ok := v.(string); ok {
			switch strings.ToLower(s) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
	}
	return v, nil
}

// ---- validation and serialisation --------------------------------------

// validationErrors collects botocore-style client-side validation errors.
type validationErrors []string

func (v validationErrors) Error() string {
	return "Parameter validation failed:\n" + strings.Join(v, "\n")
}

// prepare validates the input against the operation's shape the way
// botocore does before sending (required members, unknown members, types,
// minimum lengths and values) and serialises timestamps to epoch seconds.
func prepare(inShape *api.Shape, in *omap) (*omap, error) {
	var errs validationErrors
	out := prepValue(inShape, in, "", &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	if o, ok := out.(*omap); ok {
		return o, nil
	}
	return newOmap(), nil
}

func pyTypeName(v any) string {
	switch v := v.(type) {
	case string:
		return "<class 'str'>"
	case pyBytes:
		return "<class 'bytes'>"
	case bool:
		return "<class 'bool'>"
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "<class 'float'>"
		}
		return "<class 'int'>"
	case float64:
		return "<class 'float'>"
	case *omap:
		return "<class 'dict'>"
	case []any:
		return "<class 'list'>"
	case nil:
		return "<class 'NoneType'>"
	}
	return fmt.Sprintf("<class '%T'>", v)
}

func pathName(p string) string {
	if p == "" {
		return "input"
	}
	return p
}

func join(path, member string) string {
	if path == "" {
		return member
	}
	return path + "." + member
}

func prepValue(sh *api.Shape, v any, path string, errs *validationErrors) any {
	typeErr := func(valid string) {
		*errs = append(*errs, fmt.Sprintf("Invalid type for parameter %s, value: %s, type: %s, valid types: %s",
			pathName(path), pyStr(v), pyTypeName(v), valid))
	}
	switch sh.Type {
	case "structure":
		o, ok := v.(*omap)
		if !ok {
			typeErr("<class 'dict'>")
			return v
		}
		for _, m := range members(sh) {
			if m.Required {
				if _, ok := o.get(m.Name); !ok {
					*errs = append(*errs, fmt.Sprintf("Missing required parameter in %s: \"%s\"", pathName(path), m.Name))
				}
			}
		}
		known := map[string]api.ShapeMember{}
		for _, m := range sh.Members {
			known[m.Name] = m
		}
		out := newOmap()
		for _, k := range o.keys {
			m, ok := known[k]
			if !ok {
				*errs = append(*errs, fmt.Sprintf("Unknown parameter in %s: \"%s\", must be one of: %s",
					pathName(path), k, strings.Join(memberNames(sh), ", ")))
				continue
			}
			if o.m[k] == nil {
				continue
			}
			out.set(k, prepValue(shape(m.Shape), o.m[k], join(path, k), errs))
		}
		return out
	case "list":
		l, ok := v.([]any)
		if !ok {
			typeErr("<class 'list'>, <class 'tuple'>")
			return v
		}
		if sh.HasMin && int64(len(l)) < sh.Min {
			*errs = append(*errs, fmt.Sprintf("Invalid length for parameter %s, value: %d, valid min length: %d", pathName(path), len(l), sh.Min))
		}
		elem := shape(sh.Member)
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = prepValue(elem, e, fmt.Sprintf("%s[%d]", path, i), errs)
		}
		return out
	case "string":
		s, ok := v.(string)
		if !ok {
			typeErr("<class 'str'>")
			return v
		}
		if sh.HasMin && int64(len([]rune(s))) < sh.Min {
			*errs = append(*errs, fmt.Sprintf("Invalid length for parameter %s, value: %d, valid min length: %d", pathName(path), len([]rune(s)), sh.Min))
		}
		return s
	case "integer", "long":
		n, ok := v.(json.Number)
		if !ok || strings.ContainsAny(string(n), ".eE") {
			typeErr("<class 'int'>")
			return v
		}
		if i, err := n.Int64(); err == nil && sh.HasMin && i < sh.Min {
			*errs = append(*errs, fmt.Sprintf("Invalid value for parameter %s, value: %d, valid min value: %d", pathName(path), i, sh.Min))
		}
		return n
	case "boolean":
		if _, ok := v.(bool); !ok {
			typeErr("<class 'bool'>")
		}
		return v
	case "timestamp":
		t, err := parseTimestamp(v)
		if err != nil {
			*errs = append(*errs, fmt.Sprintf("Invalid type for parameter %s, value: %s, type: %s, valid types: <class 'datetime.datetime'>, timestamp-string",
				pathName(path), pyStr(v), pyTypeName(v)))
			return v
		}
		return json.Number(strconv.FormatInt(t.Unix(), 10))
	}
	return v
}

// timestampLayouts are the time forms parseTimestamp reads: ISO 8601 and
// RFC 1123, and the common forms dateutil (and so the AWS CLI) also reads:
// 2020/01/02, 2020-1-2, 01/02/2020 (month first), Jan 2 2020, 2 Jan 2020,
// January 2, 2020, each optionally with a time and a zone.
var timestampLayouts = func() []string {
	out := []string{
		time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.999999999Z0700",
		"20060102T150405Z", "20060102", time.RFC1123, time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 MST",
		time.ANSIC, time.UnixDate,
	}
	dates := []string{"2006-1-2", "2006/1/2", "1/2/2006", "Jan 2 2006", "Jan 2, 2006", "2 Jan 2006",
		"January 2 2006", "January 2, 2006", "2 January 2006"}
	times := []string{"", "15:04", "15:04:05", "15:04:05.999999999"}
	zones := []string{"", "Z07:00", "Z0700", "Z07", " Z07:00", " Z0700"}
	for _, d := range dates {
		for _, tm := range times {
			for _, z := range zones {
				if tm == "" {
					if z == "" {
						out = append(out, d)
					}
					continue
				}
				out = append(out, d+" "+tm+z)
				if d[0] == '2' && len(d) == 8 { // numeric year first: ISO's T too
					out = append(out, d+"T"+tm+z)
				}
			}
		}
	}
	return out
}()

// parseTimestamp accepts what the AWS CLI accepts for a timestamp: epoch
// seconds (integer or fraction) or an ISO 8601 date/time; without a zone
// it is UTC. The wire carries whole seconds, as botocore sends.
func parseTimestamp(v any) (time.Time, error) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return time.Time{}, err
		}
		return time.Unix(int64(math.Floor(f)), 0).UTC(), nil
	case string:
		s := strings.TrimSpace(v)
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return time.Unix(int64(math.Floor(f)), 0).UTC(), nil
		}
		if strings.HasSuffix(s, "z") {
			s = s[:len(s)-1] + "Z"
		}
		for _, l := range timestampLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t, nil
			}
		}
		// A trailing UTC or GMT names the zone (dateutil's reading).
		for _, z := range []string{"UTC", "GMT"} {
			if len(s) > 3 && strings.EqualFold(s[len(s)-3:], z) {
				u := strings.TrimSpace(s[:len(s)-3]) + "Z"
				for _, l := range timestampLayouts {
					if t, err := time.Parse(l, u); err == nil {
						return t, nil
					}
				}
			}
		}
		return time.Time{}, fmt.Errorf("invalid timestamp %q", v)
	}
	return time.Time{}, fmt.Errorf("invalid timestamp")
}
