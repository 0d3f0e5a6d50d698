// Package apigen turns the SWF service model (botocore's service-2.json) into
// the Go source of package api: one struct per structure shape, a typed
// string per enum, the operation table, and the constraint table that the
// request validator walks. Only names, types and constraints are taken from
// the model; none of its documentation text is copied.
package apigen

import (
	"encoding/json"
	"fmt"
	"go/format"
	"sort"
	"strings"
)

// Model is the subset of the botocore service model that apigen reads.
type Model struct {
	Metadata   map[string]any        `json:"metadata"`
	Operations map[string]Operation  `json:"operations"`
	Shapes     map[string]ModelShape `json:"shapes"`
}

// Operation is one API operation of the model.
type Operation struct {
	Name   string     `json:"name"`
	Input  *ShapeRef  `json:"input"`
	Output *ShapeRef  `json:"output"`
	Errors []ShapeRef `json:"errors"`
}

// ShapeRef points at a shape by name.
type ShapeRef struct {
	Shape string `json:"shape"`
}

// ModelShape is one shape of the model.
type ModelShape struct {
	Type      string              `json:"type"`
	Members   map[string]ShapeRef `json:"members"`
	Required  []string            `json:"required"`
	Member    *ShapeRef           `json:"member"`
	Enum      []string            `json:"enum"`
	Min       *int64              `json:"min"`
	Max       *int64              `json:"max"`
	Exception bool                `json:"exception"`
}

// alwaysEmit lists optional members that the real service sends even when
// they hold their zero value (shape.member). Captured traffic shows
// parentInitiatedEventId: 0 on root executions and previousStartedEventId: 0
// on the first decision task.
var alwaysEmit = map[string]bool{
	"WorkflowExecutionStartedEventAttributes.parentInitiatedEventId":   true,
	"DecisionTask.previousStartedEventId":                              true,
	"WorkflowExecutionInfo.cancelRequested":                            true,
	"ActivityTaskCanceledEventAttributes.latestCancelRequestedEventId": true,
	"WorkflowExecutionOpenCounts.openLambdaFunctions":                  true,
	// An untagged domain lists as "tags": [] (the service always sets the
	// slice), as AWS JSON services answer an empty list (inferred: the documentation is silent).
	"ListTagsForResourceOutput.tags": true,
	// A signal or cancel request sent through the API, not by another
	// execution, still carries externalInitiatedEventId: 0 in responses
	// recorded from the real service (kept in frameworks' test fixtures).
	"WorkflowExecutionSignaledEventAttributes.externalInitiatedEventId":        true,
	"WorkflowExecutionCancelRequestedEventAttributes.externalInitiatedEventId": true,
	// Counts always say whether they were truncated: "truncated": false is
	// in the real service's answers and the API reference's examples.
	"PendingTaskCount.truncated":       true,
	"WorkflowExecutionCount.truncated": true,
}

// keepEmpty lists the optional string members that the real service
// echoes as given, even when given empty: a decider's executionContext ""
// comes back as "executionContext": "" in DecisionTaskCompleted and makes
// latestExecutionContext "", and details "" on CancelWorkflowExecution is
// "details": "" in WorkflowExecutionCanceled (responses recorded from the
// real service, kept in frameworks' test fixtures; botoflow's decider
// fails on the missing key). These are the free-form members a caller
// passes through SWF to someone else — inputs, results, reasons, details,
// control data and execution contexts — so they are *string: nil when not
// given, and "" kept when given.
//
// The same holds for what a caller says of itself or of what it registers,
// which the service records and shows back: a poller's identity (in
// DecisionTaskStarted and ActivityTaskStarted), the description of a
// domain or a type (in DomainInfo and the type infos), and a tag's value
// (in ListTagsForResource); and for the runId a SignalExternal or
// RequestCancelExternal decision gives, echoed in its *Initiated and
// *Failed events. Their shapes allow length 0, and one given empty is shown
// empty.
var keepEmpty = map[string]bool{
	"input": true, "result": true, "reason": true, "details": true, "control": true,
	"executionContext": true, "latestExecutionContext": true,
	"identity": true, "description": true, "value": true, "runId": true,
}

// allowsEmpty tells whether a string shape admits "" (no minimum length, or
// a minimum of 0): only such a member can be given empty, so only such a
// member of a keepEmpty name is a *string (Run's runId, at least one
// character long, stays a string).
func allowsEmpty(s ModelShape) bool { return s.Min == nil || *s.Min == 0 }

// Generate returns the generated files of package api, by file name.
func Generate(modelJSON []byte) (map[string][]byte, error) {
	var m Model
	if err := json.Unmarshal(modelJSON, &m); err != nil {
		return nil, fmt.Errorf("apigen: decode model: %w", err)
	}
	files := map[string][]byte{}
	for name, gen := range map[string]func(*Model) string{
		"types_gen.go":  genTypes,
		"ops_gen.go":    genOps,
		"shapes_gen.go": genShapes,
	} {
		src := gen(&m)
		out, err := format.Source([]byte(src))
		if err != nil {
			return nil, fmt.Errorf("apigen: format %s: %w\n%s", name, err, src)
		}
		files[name] = out
	}
	return files, nil
}

const header = "// Code generated by internal/apigen from the SWF service model (API 2012-01-25). DO NOT EDIT.\n\npackage api\n\n"

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// GoName turns a model member name into an exported Go identifier.
func GoName(s string) string {
	if s == "" {
		return s
	}
	r := strings.ToUpper(s[:1]) + s[1:]
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		if strings.HasPrefix(r[i:], "Id") && (i+2 == len(r) || (r[i+2] >= 'A' && r[i+2] <= 'Z')) {
			b.WriteString("ID")
			i++
			continue
		}
		b.WriteByte(r[i])
	}
	return b.String()
}

func enumConstName(typeName, value string) string {
	var b strings.Builder
	b.WriteString(typeName)
	for _, part := range strings.FieldsFunc(value, func(r rune) bool { return r == '_' || r == '-' }) {
		if strings.ToUpper(part) == part {
			b.WriteString(strings.ToUpper(part[:1]) + strings.ToLower(part[1:]))
		} else {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func (m *Model) goType(shapeName string, required bool) string {
	s := m.Shapes[shapeName]
	switch s.Type {
	case "string":
		if len(s.Enum) > 0 {
			return shapeName
		}
		return "string"
	case "integer":
		return "int"
	case "long":
		return "int64"
	case "boolean":
		return "bool"
	case "timestamp":
		return "Time"
	case "list":
		return "[]" + m.goType(s.Member.Shape, true)
	case "structure":
		if required {
			return shapeName
		}
		return "*" + shapeName
	}
	panic("apigen: unknown shape type " + s.Type)
}

func genTypes(m *Model) string {
	var b strings.Builder
	b.WriteString(header)
	for _, name := range sortedKeys(m.Shapes) {
		s := m.Shapes[name]
		if s.Type == "string" && len(s.Enum) > 0 {
			fmt.Fprintf(&b, "// %s is the model's %s enum.\ntype %s string\n\n", name, name, name)
			b.WriteString("const (\n")
			for _, v := range s.Enum {
				fmt.Fprintf(&b, "\t%s %s = %q\n", enumConstName(name, v), name, v)
			}
			b.WriteString(")\n\n")
			fmt.Fprintf(&b, "// %sValues lists the values of %s in model order.\nvar %sValues = []string{", name, name, name)
			for i, v := range s.Enum {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%q", v)
			}
			b.WriteString("}\n\n")
		}
		if s.Type != "structure" || s.Exception {
			continue
		}
		req := map[string]bool{}
		for _, r := range s.Required {
			req[r] = true
		}
		fmt.Fprintf(&b, "// %s is the model's %s shape.\ntype %s struct {\n", name, name, name)
		for _, mn := range sortedKeys(s.Members) {
			ref := s.Members[mn]
			tag := mn
			if !req[mn] && !alwaysEmit[name+"."+mn] {
				if m.Shapes[ref.Shape].Type == "timestamp" {
					tag += ",omitzero"
				} else {
					tag += ",omitempty"
				}
			}
			// Required structures are values; a required member that is a
			// structure is always present in valid input and output.
			typ := m.goType(ref.Shape, req[mn])
			if typ == "string" && !req[mn] && keepEmpty[mn] && allowsEmpty(m.Shapes[ref.Shape]) {
				typ = "*string"
			}
			fmt.Fprintf(&b, "\t%s %s `json:\"%s\"`\n", GoName(mn), typ, tag)
		}
		if name == "HistoryEvent" {
			// Events are stored as their wire JSON; a server sends that
			// back as is instead of encoding the fields again.
			b.WriteString("\n\t// Raw, when set, is this event's complete wire JSON, sent as is\n\t// (see MarshalJSON and RawHistoryEvent).\n\tRaw []byte `json:\"-\"`\n")
		}
		b.WriteString("}\n\n")
	}
	return b.String()
}

func genOps(m *Model) string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("import \"context\"\n\n")
	b.WriteString("// Service is every SWF operation, one method each. Operations without an\n// output shape return only an error.\ntype Service interface {\n")
	for _, op := range sortedKeys(m.Operations) {
		o := m.Operations[op]
		if o.Output != nil {
			fmt.Fprintf(&b, "\t%s(ctx context.Context, in *%s) (*%s, error)\n", op, o.Input.Shape, o.Output.Shape)
		} else {
			fmt.Fprintf(&b, "\t%s(ctx context.Context, in *%s) error\n", op, o.Input.Shape)
		}
	}
	b.WriteString("}\n\n")
	b.WriteString("// Operations describes each operation: its input shape, its output shape\n// (empty when it has none) and the faults the model lists for it.\nvar Operations = map[string]OperationInfo{\n")
	for _, op := range sortedKeys(m.Operations) {
		o := m.Operations[op]
		out := ""
		if o.Output != nil {
			out = o.Output.Shape
		}
		var errs []string
		for _, e := range o.Errors {
			errs = append(errs, fmt.Sprintf("%q", e.Shape))
		}
		fmt.Fprintf(&b, "\t%q: {Name: %q, Input: %q, Output: %q, Faults: []string{%s},\n", op, op, o.Input.Shape, out, strings.Join(errs, ", "))
		fmt.Fprintf(&b, "\t\tnewInput: func() any { return new(%s) },\n", o.Input.Shape)
		if o.Output != nil {
			fmt.Fprintf(&b, "\t\tcall: func(ctx context.Context, s Service, in any) (any, error) { return s.%s(ctx, in.(*%s)) },\n", op, o.Input.Shape)
		} else {
			fmt.Fprintf(&b, "\t\tcall: func(ctx context.Context, s Service, in any) (any, error) { return nil, s.%s(ctx, in.(*%s)) },\n", op, o.Input.Shape)
		}
		b.WriteString("\t},\n")
	}
	b.WriteString("}\n\n")
	b.WriteString("// FaultNames lists the exception shapes of the model.\nvar FaultNames = []string{")
	first := true
	for _, name := range sortedKeys(m.Shapes) {
		if m.Shapes[name].Exception {
			if !first {
				b.WriteString(", ")
			}
			first = false
			fmt.Fprintf(&b, "%q", name)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func genShapes(m *Model) string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("// shapes is the constraint table of every non-exception shape, walked by\n// the request validator.\nvar shapes = map[string]*Shape{\n")
	for _, name := range sortedKeys(m.Shapes) {
		s := m.Shapes[name]
		if s.Exception {
			continue
		}
		fmt.Fprintf(&b, "\t%q: {Name: %q, Type: %q", name, name, s.Type)
		if s.Min != nil {
			fmt.Fprintf(&b, ", Min: %d, HasMin: true", *s.Min)
		}
		if s.Max != nil {
			fmt.Fprintf(&b, ", Max: %d, HasMax: true", *s.Max)
		}
		if len(s.Enum) > 0 {
			fmt.Fprintf(&b, ", Enum: %sValues", name)
		}
		if s.Member != nil {
			fmt.Fprintf(&b, ", Member: %q", s.Member.Shape)
		}
		if s.Type == "structure" {
			req := map[string]bool{}
			for _, r := range s.Required {
				req[r] = true
			}
			b.WriteString(", Members: []ShapeMember{")
			for _, mn := range sortedKeys(s.Members) {
				fmt.Fprintf(&b, "{Name: %q, Shape: %q, Required: %v}, ", mn, s.Members[mn].Shape, req[mn])
			}
			b.WriteString("}")
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	return b.String()
}
