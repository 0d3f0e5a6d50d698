package quota

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/cfgfile"
	"github.com/swfd/swfd/internal/jsonmember"
)

// A quota file is JSON:
//
//	{
//	  "base": "aws",
//	  "operations": {"StartWorkflowExecution": {"bucketSize": 10, "refillPerSecond": 2}},
//	  "executions": {"SignalWorkflowExecution": {"bucketSize": 5, "refillPerSecond": 1}},
//	  "decisions": {"StartTimer": {"bucketSize": 20, "refillPerSecond": 5}},
//	  "activityTaskList": {"bucketSize": 100, "refillPerSecond": 50},
//	  "domains": {"batch": {"operations": {"PollForActivityTask": {"unlimited": true}}}},
//	  "principals": {"ci": {"operations": {"StartWorkflowExecution": {"bucketSize": 1, "refillPerSecond": 0.5}}}}
//	}
//
// base is what the file starts from: "aws" (the default: the real service's
// buckets) or "off" (no bucket but those the file sets). Every member is
// optional. A domain's or a principal's entries take the same four members
// as the top level. The file's own members are read whatever their case;
// one given twice in an object (or in two spellings, "Operations" beside
// "operations") is refused, as is an operation, decision, domain or
// principal named twice in its object.

// fileLimit is a limit as the file writes it.
type fileLimit struct {
	BucketSize      *float64 `json:"bucketSize"`
	RefillPerSecond *float64 `json:"refillPerSecond"`
	Unlimited       bool     `json:"unlimited"`
}

type fileSet struct {
	Operations       map[string]fileLimit `json:"operations"`
	Executions       map[string]fileLimit `json:"executions"`
	Decisions        map[string]fileLimit `json:"decisions"`
	ActivityTaskList *fileLimit           `json:"activityTaskList"`
}

type file struct {
	Base string `json:"base"`
	fileSet
	Domains    map[string]fileSet `json:"domains"`
	Principals map[string]fileSet `json:"principals"`
}

// Most a bucket may hold or refill a second: beyond any real client, and
// small enough that float64 counts tokens exactly.
const maxLimit = 1e9

// Load reads and checks a quota file. The error names the file and, for a
// value that is not allowed, the member that holds it. A path that is not
// a regular file (a named pipe, a device, a directory) or a file larger
// than cfgfile.MaxBytes is refused without being read.
func Load(path string) (*Config, error) {
	data, err := cfgfile.Read("quota file", path)
	if err != nil {
		return nil, fmt.Errorf("quota file: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("quota file %s: %w", path, err)
	}
	return cfg, nil
}

// Parse checks a quota file's contents and returns its Config.
func Parse(data []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, jsonError(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON object")
	}
	// Decoding kept the last of a member given twice and dropped the
	// first without a word; such a file is refused, saying where.
	if err := jsonmember.Unique(data, reflect.TypeFor[file]()); err != nil {
		var dup *jsonmember.Error
		if errors.As(err, &dup) {
			return nil, fmt.Errorf("line %d: %w", dup.Line, err)
		}
		return nil, err
	}
	var cfg *Config
	switch f.Base {
	case "", "aws":
		cfg = AWS()
	case "off":
		cfg = &Config{Set: *emptySet()}
	default:
		return nil, fmt.Errorf("base: %q is neither \"aws\" nor \"off\"", f.Base)
	}
	if err := f.fileSet.apply(&cfg.Set, ""); err != nil {
		return nil, err
	}
	cfg.Domains = map[string]*Set{}
	for _, name := range slices.Sorted(maps.Keys(f.Domains)) {
		if name == "" {
			return nil, errors.New("domains: a domain's name is empty")
		}
		s := emptySet()
		if err := f.Domains[name].apply(s, "domains."+name+"."); err != nil {
			return nil, err
		}
		cfg.Domains[name] = s
	}
	cfg.Principals = map[string]*Set{}
	for _, name := range slices.Sorted(maps.Keys(f.Principals)) {
		if name == "" {
			return nil, errors.New("principals: a principal's name is empty")
		}
		s := emptySet()
		if err := f.Principals[name].apply(s, "principals."+name+"."); err != nil {
			return nil, err
		}
		cfg.Principals[name] = s
	}
	return cfg, nil
}

func emptySet() *Set {
	return &Set{Operations: map[string]Limit{}, Executions: map[string]Limit{}, Decisions: map[api.DecisionType]Limit{}}
}

// apply checks fs and sets its limits in s; at is the path of fs in the
// file, for errors.
func (fs fileSet) apply(s *Set, at string) error {
	for _, op := range slices.Sorted(maps.Keys(fs.Operations)) {
		if api.Operations[op].Name == "" {
			return fmt.Errorf("%soperations: %q is not an SWF operation", at, op)
		}
		lim, err := fs.Operations[op].limit(at + "operations." + op)
		if err != nil {
			return err
		}
		s.Operations[op] = lim
	}
	for _, op := range slices.Sorted(maps.Keys(fs.Executions)) {
		if !slices.Contains(ExecutionOperations, op) {
			return fmt.Errorf("%sexecutions: %q has no bucket per execution; use one of %s", at, op, strings.Join(ExecutionOperations, ", "))
		}
		lim, err := fs.Executions[op].limit(at + "executions." + op)
		if err != nil {
			return err
		}
		s.Executions[op] = lim
	}
	for _, d := range slices.Sorted(maps.Keys(fs.Decisions)) {
		if !slices.Contains(RateLimitedDecisions, api.DecisionType(d)) {
			names := make([]string, len(RateLimitedDecisions))
			for i, d := range RateLimitedDecisions {
				names[i] = string(d)
			}
			return fmt.Errorf("%sdecisions: %q is not a rate-limited decision; use one of %s", at, d, strings.Join(names, ", "))
		}
		lim, err := fs.Decisions[d].limit(at + "decisions." + d)
		if err != nil {
			return err
		}
		s.Decisions[api.DecisionType(d)] = lim
	}
	if fs.ActivityTaskList != nil {
		lim, err := fs.ActivityTaskList.limit(at + "activityTaskList")
		if err != nil {
			return err
		}
		s.ActivityTaskList = &lim
	}
	return nil
}

// limit checks a limit of the file; at is its path, for errors.
func (fl fileLimit) limit(at string) (Limit, error) {
	if fl.Unlimited {
		if fl.BucketSize != nil || fl.RefillPerSecond != nil {
			return Limit{}, fmt.Errorf("%s: give either unlimited or bucketSize and refillPerSecond, not both", at)
		}
		return Limit{Unlimited: true}, nil
	}
	switch {
	case fl.BucketSize == nil:
		return Limit{}, fmt.Errorf("%s: bucketSize is missing (or say \"unlimited\": true)", at)
	case fl.RefillPerSecond == nil:
		return Limit{}, fmt.Errorf("%s: refillPerSecond is missing", at)
	}
	size, rate := *fl.BucketSize, *fl.RefillPerSecond
	if size < 1 || size > maxLimit || size != math.Trunc(size) {
		return Limit{}, fmt.Errorf("%s: bucketSize %g must be a whole number from 1 to %g", at, size, float64(maxLimit))
	}
	if !(rate > 0) || rate > maxLimit {
		return Limit{}, fmt.Errorf("%s: refillPerSecond %g must be more than 0 and at most %g", at, rate, float64(maxLimit))
	}
	return Limit{Size: size, Rate: rate}, nil
}

// jsonError says where in data a decoding error is, by line.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("line %d: %w", lineAt(data, syn.Offset), err)
	case errors.As(err, &typ):
		field := strings.ReplaceAll(strings.TrimPrefix(typ.Field, "fileSet."), ".fileSet", "")
		return fmt.Errorf("line %d: %s: a %s is not allowed here (want a %s)", lineAt(data, typ.Offset), field, typ.Value, jsonKind(typ.Type.Kind()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("line %d: the JSON ends early", lineAt(data, int64(len(data))))
	case errors.Is(err, io.EOF):
		return errors.New("the file is empty; it must hold a JSON object")
	}
	return err
}

// jsonKind names a Go kind as JSON calls it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Float64, reflect.Pointer:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	}
	return "object"
}

func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}
