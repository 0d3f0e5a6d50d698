package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/jsonmember"
)

var decodeRune = utf8.DecodeRuneInString

// Policy is a parsed IAM identity-based policy document.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement

	// resourceTags says that a condition names aws:ResourceTag/KEY: a
	// request judged by the policy needs its domain's tags.
	resourceTags bool
}

// Statement is one statement of a policy. Exactly one of Actions and
// NotActions is set, and exactly one of Resources and NotResources.
type Statement struct {
	Sid          string
	Effect       Effect
	Actions      []string
	NotActions   []string
	Resources    []string
	NotResources []string
	Conditions   []Condition

	// res holds Resources or NotResources as templates when they use a
	// policy variable (a Version 2012-10-17 policy): each request then
	// matches them with the variables replaced. Nil otherwise.
	res []template
}

// Effect is a statement's effect.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Condition is one (operator, key, values) test of a Condition block.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string // as written; matched case-insensitively
	Values   []string

	op operator
	// global is the global condition key Key names (its value comes
	// from the caller, not from the request's keys), or 0.
	global globalKey
	// vals holds Values as templates when they use a policy variable (a
	// Version 2012-10-17 policy); nil otherwise.
	vals []template
}

// operator is a parsed condition operator.
type operator struct {
	set      setMode
	base     string // "StringEquals", "StringEqualsIgnoreCase", "StringLike", "Null"
	negated  bool
	ifExists bool
}

type setMode int

const (
	setNone setMode = iota
	setAny
	setAll
)

// Known policy language versions.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// ParsePolicy parses a policy document in the IAM JSON grammar. Elements
// that make no sense in an identity-based policy (Principal, NotPrincipal)
// and unknown elements are errors, as are unknown condition operators and
// a member given twice in one object (JSON decoding would keep only the
// last): a policy that would be read differently from how it was meant is
// refused when it is loaded, not discovered at request time.
func ParsePolicy(doc []byte) (*Policy, error) {
	var top map[string]json.RawMessage
	if err := strictUnmarshal(doc, &top); err != nil {
		return nil, fmt.Errorf("policy is not a JSON object: %w", err)
	}
	if top == nil {
		return nil, errors.New("policy is not a JSON object")
	}
	// A member given twice in one object would lose its first to
	// decoding: a condition meant to narrow an Allow, or a whole Deny.
	// Member names are case-sensitive here (read by hand, not into
	// structs).
	if err := jsonmember.Unique(doc, nil); err != nil {
		return nil, fmt.Errorf("%w (several conditions of one operator go in one object)", err)
	}
	p := &Policy{}
	for k, v := range top {
		switch k {
		case "Version":
			if err := json.Unmarshal(v, &p.Version); err != nil {
				return nil, errors.New("Version must be a string")
			}
			if p.Version != Version2012 && p.Version != Version2008 {
				return nil, fmt.Errorf("Version %q: use %q", p.Version, Version2012)
			}
		case "Id":
			if err := json.Unmarshal(v, &p.ID); err != nil {
				return nil, errors.New("Id must be a string")
			}
		case "Statement":
		default:
			return nil, fmt.Errorf("unknown policy element %q", k)
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, errors.New("policy has no Statement")
	}
	var list []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, errors.New("Statement must be an object or an array of objects")
		}
	} else {
		list = []json.RawMessage{raw}
	}
	for i, r := range list {
		s, err := parseStatement(r)
		if err != nil {
			if s.Sid != "" {
				return nil, fmt.Errorf("statement %d (Sid %q): %w", i+1, s.Sid, err)
			}
			return nil, fmt.Errorf("statement %d: %w", i+1, err)
		}
		if p.Version == Version2012 {
			// Policy variables exist from Version 2012-10-17 on; in an
			// older policy (or one without a Version) "${" is text.
			if err := s.compileVariables(); err != nil {
				if s.Sid != "" {
					return nil, fmt.Errorf("statement %d (Sid %q): %w", i+1, s.Sid, err)
				}
				return nil, fmt.Errorf("statement %d: %w", i+1, err)
			}
		}
		for _, c := range s.Conditions {
			if resourceTagKey(strings.ToLower(c.Key)) {
				p.resourceTags = true
			}
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

// strictUnmarshal is json.Unmarshal that also refuses trailing data.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func parseStatement(raw json.RawMessage) (Statement, error) {
	var m map[string]json.RawMessage
	var s Statement
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return s, errors.New("a statement must be a JSON object")
	}
	if v, ok := m["Sid"]; ok {
		if err := json.Unmarshal(v, &s.Sid); err != nil {
			return s, errors.New("Sid must be a string")
		}
	}
	for k, v := range m {
		var err error
		switch k {
		case "Sid":
		case "Effect":
			var e string
			if json.Unmarshal(v, &e) != nil || (e != string(Allow) && e != string(Deny)) {
				return s, errors.New(`Effect must be "Allow" or "Deny"`)
			}
			s.Effect = Effect(e)
		case "Action":
			s.Actions, err = stringOrList(k, v)
		case "NotAction":
			s.NotActions, err = stringOrList(k, v)
		case "Resource":
			s.Resources, err = stringOrList(k, v)
		case "NotResource":
			s.NotResources, err = stringOrList(k, v)
		case "Condition":
			s.Conditions, err = parseConditions(v)
		case "Principal", "NotPrincipal":
			return s, fmt.Errorf("%s is not allowed in an identity-based policy (the principal is the one the policy is attached to)", k)
		default:
			return s, fmt.Errorf("unknown statement element %q", k)
		}
		if err != nil {
			return s, err
		}
	}
	switch {
	case s.Effect == "":
		return s, errors.New("missing Effect")
	case (s.Actions == nil) == (s.NotActions == nil):
		return s, errors.New("a statement needs exactly one of Action and NotAction")
	case (s.Resources == nil) == (s.NotResources == nil):
		return s, errors.New("a statement needs exactly one of Resource and NotResource")
	}
	for _, r := range append(append([]string(nil), s.Resources...), s.NotResources...) {
		if !resourceForm(r) {
			// It would match no resource (an SWF resource is named by its
			// ARN): a Deny on it would never apply, and an Allow's
			// NotResource naming it would allow every domain. IAM refuses
			// such a policy too.
			elem := "Resource"
			if s.Resources == nil {
				elem = "NotResource"
			}
			return s, fmt.Errorf("%s %q must be an ARN or \"*\" (an SWF domain is arn:aws:swf:REGION:ACCOUNT:/domain/NAME)", elem, r)
		}
	}
	for _, a := range append(append([]string(nil), s.Actions...), s.NotActions...) {
		if a != "*" && !strings.Contains(a, ":") {
			return s, fmt.Errorf("action %q: write it as service:Action, e.g. swf:StartWorkflowExecution", a)
		}
	}
	elem, list := "Action", s.Actions
	if list == nil {
		elem, list = "NotAction", s.NotActions
	}
	for _, a := range list {
		if !namesSwfdAction(a) {
			// As for swf: below; swfd's own actions are few.
			return s, fmt.Errorf("%s %q names no action of swfd's (%s, %s)", elem, a, ActionAdvanceClock, ActionReset)
		}
		if !namesSWFAction(a) {
			// It would match no call: a Deny on it would never apply,
			// and an Allow's NotAction naming it would allow the call
			// it was meant to leave out.
			return s, fmt.Errorf("%s %q names no SWF action (swf:<Operation> for the API's operations, swf:<DecisionType> for decisions, e.g. swf:TerminateWorkflowExecution, swf:ScheduleActivityTask)", elem, a)
		}
	}
	return s, nil
}

// resourceForm reports whether a Resource or NotResource pattern has the
// form IAM takes: "*", or an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:
// RESOURCE), whose parts may hold wildcards, a "*" standing for any
// number of them.
func resourceForm(r string) bool {
	if r == "*" {
		return true
	}
	if !strings.HasPrefix(r, "arn:") {
		return false
	}
	return strings.Count(r, ":") >= 5 || strings.Contains(r[len("arn:"):], "*")
}

// swfActions are the actions SWF authorizes, lower-case: swf:<Operation>
// for each API operation and swf:<DecisionType> for each decision.
var swfActions = func() []string {
	var out []string
	for op := range api.Operations {
		out = append(out, "swf:"+strings.ToLower(op))
	}
	for _, d := range api.DecisionTypeValues {
		out = append(out, "swf:"+strings.ToLower(d))
	}
	sort.Strings(out)
	return out
}()

// The actions of swfd's own admin API (package admin), beside SWF's:
// swf:* does not grant them.
const (
	ActionAdvanceClock = "swfd:AdvanceClock" // move a manual or skip clock
	ActionReset        = "swfd:Reset"        // empty a --dev server
)

// namesSwfdAction reports whether an Action or NotAction pattern of the
// swfd service (any other is left alone) matches one of swfd's own
// actions.
func namesSwfdAction(pattern string) bool {
	p := strings.ToLower(pattern)
	if !strings.HasPrefix(p, "swfd:") {
		return true
	}
	return Match(p, strings.ToLower(ActionAdvanceClock)) || Match(p, strings.ToLower(ActionReset))
}

// namesSWFAction reports whether an Action or NotAction pattern of the
// swf service (any other is left alone) matches some SWF action.
func namesSWFAction(pattern string) bool {
	p := strings.ToLower(pattern)
	if !strings.HasPrefix(p, "swf:") {
		return true
	}
	for _, a := range swfActions {
		if Match(p, a) {
			return true
		}
	}
	return false
}

// stringOrList decodes a string or a non-empty array of strings.
func stringOrList(elem string, v json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(v, &one); err == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil || len(list) == 0 {
		return nil, fmt.Errorf("%s must be a string or a non-empty array of strings", elem)
	}
	return list, nil
}

// conditionValues decodes a condition value: a scalar (string, number,
// boolean) or an array of them, all compared as strings.
func conditionValues(v json.RawMessage) ([]string, error) {
	var any0 any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&any0); err != nil {
		return nil, err
	}
	scalar := func(x any) (string, bool) {
		switch t := x.(type) {
		case string:
			return t, true
		case json.Number:
			return t.String(), true
		case bool:
			return strconv.FormatBool(t), true
		}
		return "", false
	}
	if s, ok := scalar(any0); ok {
		return []string{s}, nil
	}
	list, ok := any0.([]any)
	if !ok || len(list) == 0 {
		return nil, errors.New("a condition value must be a string, number, boolean or a non-empty array of them")
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := scalar(x)
		if !ok {
			return nil, errors.New("a condition value must be a string, number, boolean or a non-empty array of them")
		}
		out = append(out, s)
	}
	return out, nil
}

func parseConditions(v json.RawMessage) ([]Condition, error) {
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &block); err != nil {
		return nil, errors.New(`Condition must be an object like {"StringEquals": {"swf:taskList.name": "x"}}`)
	}
	ops := make([]string, 0, len(block))
	for op := range block {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var out []Condition
	for _, opName := range ops {
		op, err := parseOperator(opName)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(block[opName]))
		for k := range block[opName] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !strings.Contains(k, ":") {
				// Every condition key names its service (swf:, aws:):
				// one without would be missing from every call, so a
				// Deny on it would never apply (a typo such as
				// taskList.name for swf:taskList.name).
				hint := ""
				if swfKeys["swf:"+strings.ToLower(k)] {
					hint = "; write swf:" + k
				}
				return nil, fmt.Errorf("condition %s %s: a condition key names its service (swf:taskList.name, aws:username); %s names none and would find it missing in every call%s", opName, k, k, hint)
			}
			g := globalKeys[strings.ToLower(k)]
			if g == 0 && !requestKey(k) {
				// A global key swfd does not evaluate would be missing
				// from every call: a Deny on it would never apply.
				return nil, fmt.Errorf("condition %s %s: the global condition key %s is not supported (swfd evaluates aws:username, aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:RequestedRegion, aws:UserAgent, aws:RequestTag/…, aws:TagKeys and aws:ResourceTag/…; a condition on another would find it missing in every call)", opName, k, k)
			}
			if lower := strings.ToLower(k); strings.HasPrefix(lower, "swf:") && !swfKeys[lower] {
				// Missing from every call, it would make a Deny never
				// apply, and an Allow with a negated operator or
				// ForAllValues always apply (a typo such as
				// swf:taskList for swf:taskList.name).
				return nil, fmt.Errorf("condition %s %s: SWF has no condition key %s (its keys: %s); a condition on it would find it missing in every call", opName, k, k, swfKeyList)
			}
			vals, err := conditionValues(block[opName][k])
			if err != nil {
				return nil, fmt.Errorf("condition %s %s: %w", opName, k, err)
			}
			if op.base == "Null" {
				for _, x := range vals {
					if x != "true" && x != "false" {
						return nil, fmt.Errorf("condition Null %s: the value must be true or false", k)
					}
				}
			}
			out = append(out, Condition{Operator: opName, Key: k, Values: vals, op: op, global: g})
		}
	}
	return out, nil
}

// swfKeyList lists, for messages, the condition keys SWF's calls and
// decisions have.
const swfKeyList = "swf:activityType.name, swf:activityType.version, swf:defaultTaskList.name, swf:name, swf:version, " +
	"swf:tagFilter.tag, swf:tagList.member.0 … swf:tagList.member.4 (or swf:tagList.0 … swf:tagList.4), swf:taskList.name, " +
	"swf:typeFilter.name, swf:typeFilter.version, swf:workflowType.name, swf:workflowType.version (or swf:workflowTypeVersion)"

// swfKeys are the condition keys SWF's calls and decisions have (Guard and
// the history engine's decision keys set them), with the other spellings
// SWF's documentation gives them, by lower-case name.
var swfKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range []string{"swf:activityType.name", "swf:activityType.version", "swf:defaultTaskList.name", "swf:name",
		"swf:version", "swf:tagFilter.tag", "swf:taskList.name", "swf:typeFilter.name", "swf:typeFilter.version",
		"swf:workflowType.name", "swf:workflowType.version", "swf:workflowTypeVersion"} {
		m[strings.ToLower(k)] = true
	}
	// An execution has at most five tags.
	for i := range 5 {
		m["swf:taglist.member."+strconv.Itoa(i)] = true
		m["swf:taglist."+strconv.Itoa(i)] = true
	}
	return m
}()

// requestKey reports whether a condition key that is not a global key
// swfd evaluates is one a request may carry: a service's key (swf:…),
// aws:RequestTag/KEY or aws:TagKeys, or aws:ResourceTag/KEY (the tags of
// the domain it acts on). Any other aws: key is a global key swfd has no
// value for.
func requestKey(k string) bool {
	lower := strings.ToLower(k)
	if !strings.HasPrefix(lower, "aws:") {
		return true
	}
	return lower == "aws:tagkeys" || (strings.HasPrefix(lower, "aws:requesttag/") && len(lower) > len("aws:requesttag/")) ||
		resourceTagKey(lower)
}

// resourceTagPrefix begins the condition keys of a domain's tags,
// aws:ResourceTag/KEY (lower-case, as keys are compared).
const resourceTagPrefix = "aws:resourcetag/"

// resourceTagKey reports whether a lower-case condition key is
// aws:ResourceTag/KEY.
func resourceTagKey(lower string) bool {
	return strings.HasPrefix(lower, resourceTagPrefix) && len(lower) > len(resourceTagPrefix)
}

var baseOperators = []struct {
	name    string
	base    string
	negated bool
}{
	{"StringEquals", "StringEquals", false},
	{"StringNotEquals", "StringEquals", true},
	{"StringEqualsIgnoreCase", "StringEqualsIgnoreCase", false},
	{"StringNotEqualsIgnoreCase", "StringEqualsIgnoreCase", true},
	{"StringLike", "StringLike", false},
	{"StringNotLike", "StringLike", true},
}

// parseOperator parses a condition operator name: an optional
// ForAnyValue:/ForAllValues: qualifier, a string operator, an optional
// IfExists suffix; or Null.
func parseOperator(name string) (operator, error) {
	var op operator
	rest := name
	if q, r, ok := strings.Cut(name, ":"); ok {
		switch {
		case strings.EqualFold(q, "ForAnyValue"):
			op.set = setAny
		case strings.EqualFold(q, "ForAllValues"):
			op.set = setAll
		default:
			return op, fmt.Errorf("condition operator %q: unknown qualifier %q (use ForAnyValue or ForAllValues)", name, q)
		}
		rest = r
	}
	if strings.EqualFold(rest, "Null") {
		if op.set != setNone {
			return op, fmt.Errorf("condition operator %q: Null takes no qualifier", name)
		}
		op.base = "Null"
		return op, nil
	}
	if len(rest) > len("IfExists") && strings.EqualFold(rest[len(rest)-len("IfExists"):], "IfExists") {
		op.ifExists = true
		rest = rest[:len(rest)-len("IfExists")]
	}
	for _, b := range baseOperators {
		if strings.EqualFold(rest, b.name) {
			op.base, op.negated = b.base, b.negated
			return op, nil
		}
	}
	return op, fmt.Errorf("condition operator %q is not supported (supported: StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike, each with an optional IfExists suffix and ForAnyValue:/ForAllValues: qualifier, and Null)", name)
}

// Request is what a policy is evaluated against.
type Request struct {
	// Action is "swf:<Operation>" or "swf:<DecisionType>".
	Action string
	// Resources are the spellings of the one resource the request acts
	// on (a domain ARN with and without the "/" before "domain"); a
	// Resource pattern matches if it matches any of them.
	Resources []string
	// AnyDomainOf, set instead of Resources, says that the request acts
	// on one domain whose name is not known: it holds the spellings of
	// the domain's ARN up to the name. A statement's resource element is
	// read the way that cannot widen a grant: an Allow applies if it
	// applies whatever the name, a Deny if it applies for some name.
	AnyDomainOf []string
	// Keys are the condition keys present in the request, by lower-case
	// name.
	Keys map[string][]string
	// Caller gives the global condition keys (aws:username and the like)
	// and the policy variables their values.
	Caller Caller
}

// Caller is who sends a request, and where: the values of the global
// condition keys and policy variables swfd evaluates.
type Caller struct {
	Username  string // aws:username, the principal's name
	Account   string // aws:PrincipalAccount, swfd's account id
	Region    string // aws:RequestedRegion, swfd's region
	UserAgent string // aws:UserAgent, the request's User-Agent ("" is absent)
}

// globalKey is a global condition key swfd evaluates.
type globalKey int

const (
	keyUsername globalKey = iota + 1
	keyPrincipalArn
	keyPrincipalAccount
	keyPrincipalType
	keyRequestedRegion
	keyUserAgent
)

// globalKeys are the global condition keys swfd evaluates, by lower-case
// name.
var globalKeys = map[string]globalKey{
	"aws:username":         keyUsername,
	"aws:principalarn":     keyPrincipalArn,
	"aws:principalaccount": keyPrincipalAccount,
	"aws:principaltype":    keyPrincipalType,
	"aws:requestedregion":  keyRequestedRegion,
	"aws:useragent":        keyUserAgent,
}

// value returns a global key's value for the caller; false if the request
// has none (no User-Agent).
func (c *Caller) value(k globalKey) (string, bool) {
	switch k {
	case keyUsername:
		return c.Username, true
	case keyPrincipalArn:
		return "arn:aws:iam::" + c.Account + ":user/" + c.Username, true
	case keyPrincipalAccount:
		return c.Account, true
	case keyPrincipalType:
		return "User", true
	case keyRequestedRegion:
		return c.Region, true
	case keyUserAgent:
		return c.UserAgent, c.UserAgent != ""
	}
	return "", false
}

// Decision is the outcome of an evaluation.
type Decision int

// The three outcomes of IAM evaluation.
const (
	ImplicitDeny Decision = iota // no statement allows it
	Allowed
	ExplicitDeny // a Deny statement applies
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Evaluate applies the IAM rules to a request: denied by default, allowed
// if some statement allows it, denied if any statement denies it.
func Evaluate(policies []*Policy, req *Request) Decision {
	allowed := false
	for _, p := range policies {
		for i := range p.Statements {
			s := &p.Statements[i]
			if !s.applies(req) {
				continue
			}
			if s.Effect == Deny {
				return ExplicitDeny
			}
			allowed = true
		}
	}
	if allowed {
		return Allowed
	}
	return ImplicitDeny
}

func (s *Statement) applies(req *Request) bool {
	action := strings.ToLower(req.Action)
	if s.Actions != nil {
		if !anyMatch(s.Actions, []string{action}, true) {
			return false
		}
	} else if anyMatch(s.NotActions, []string{action}, true) {
		return false
	}
	pats, lits := s.Resources, [][]bool(nil)
	if pats == nil {
		pats = s.NotResources
	}
	if s.res != nil {
		pats, lits = expandAll(s.res, &req.Caller)
	}
	switch {
	case req.AnyDomainOf != nil:
		if !s.coversAnyDomain(pats, lits, req.AnyDomainOf) {
			return false
		}
	case s.Resources != nil:
		if !anyMatchLit(pats, lits, req.Resources) {
			return false
		}
	default:
		if anyMatchLit(pats, lits, req.Resources) {
			return false
		}
	}
	for i := range s.Conditions {
		if !s.Conditions[i].holds(req, s.Effect) {
			return false
		}
	}
	return true
}

// anyMatchLit reports whether some pattern matches some value; lits, if
// not nil, marks in each pattern the bytes that are literal even if they
// are '*' or '?' (see matchLit).
func anyMatchLit(patterns []string, lits [][]bool, values []string) bool {
	for i, p := range patterns {
		var lit []bool
		if lits != nil {
			lit = lits[i]
		}
		for _, v := range values {
			if matchLit(p, lit, v) {
				return true
			}
		}
	}
	return false
}

// coversAnyDomain reports whether the statement's resource element applies
// to a domain whose name is not known, whose ARN is one of prefixes
// followed by the name: an Allow only if it applies to every domain, a Deny
// if it applies to some domain.
//
// pats are the statement's Resource or NotResource patterns, lits their
// literal bytes (see matchLit).
func (s *Statement) coversAnyDomain(pats []string, lits [][]bool, prefixes []string) bool {
	if s.Effect == Deny {
		if s.Resources != nil {
			return someNameLit(pats, lits, prefixes)
		}
		return !everyNameLit(pats, lits, prefixes)
	}
	if s.Resources != nil {
		return everyNameLit(pats, lits, prefixes)
	}
	return !someNameLit(pats, lits, prefixes)
}

// anyMatch reports whether some pattern matches some value. With fold,
// patterns are compared case-insensitively (values must be lower-case).
func anyMatch(patterns, values []string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		for _, v := range values {
			if Match(p, v) {
				return true
			}
		}
	}
	return false
}

// holds reports whether the condition holds for the request's keys in a
// statement with the given effect (which matters only for an operator
// without a set qualifier given several values: see the end).
func (c *Condition) holds(req *Request, effect Effect) bool {
	var vals []string
	var present bool
	var one [1]string
	if req.AnyDomainOf != nil && resourceTagKey(strings.ToLower(c.Key)) {
		// The domain, and so its tags, cannot be told: read the way
		// that cannot widen a grant, as its resource is (an Allow on
		// some tag does not apply, a Deny on some tag does).
		return effect == Deny
	}
	if c.global != 0 {
		one[0], present = req.Caller.value(c.global)
		vals = one[:]
	} else {
		vals, present = req.Keys[strings.ToLower(c.Key)]
		present = present && len(vals) > 0
	}
	policyVals, lits := c.Values, [][]bool(nil)
	if c.vals != nil {
		policyVals, lits = expandAll(c.vals, &req.Caller)
	}
	op := c.op
	if op.base == "Null" {
		for _, want := range c.Values {
			if (want == "true") == !present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case op.ifExists:
			return true
		case op.set == setAll:
			return true // every one of no values matches
		case op.set == setAny:
			return false
		}
		// A negated operator holds when the key is absent.
		return op.negated
	}
	// matches reports whether one request value matches the operator's
	// positive form against some policy value.
	matches := func(v string) bool {
		for i, p := range policyVals {
			switch op.base {
			case "StringEquals":
				if v == p {
					return true
				}
			case "StringEqualsIgnoreCase":
				if strings.EqualFold(v, p) {
					return true
				}
			case "StringLike":
				var lit []bool
				if lits != nil {
					lit = lits[i]
				}
				if matchLit(p, lit, v) {
					return true
				}
			}
		}
		return false
	}
	// ok applies the operator (with its negation) to one request value.
	ok := func(v string) bool { return matches(v) != op.negated }
	switch op.set {
	case setAll:
		for _, v := range vals {
			if !ok(v) {
				return false
			}
		}
		return true
	case setAny:
		for _, v := range vals {
			if ok(v) {
				return true
			}
		}
		return false
	}
	// An operator without a set qualifier compares one value, and most
	// keys have one. A few can have several: aws:TagKeys (a value per
	// tag), and aws:RequestTag/KEY when the request's tags include keys
	// that differ only in case (condition key names are case-insensitive,
	// tag keys are not, so the one condition key stands for each of those
	// tags). IAM gives such a comparison no meaning to rely on, so swfd
	// takes the one that cannot widen a grant or narrow a refusal: in an
	// Allow statement the condition must hold for every value (so
	// StringEquals "me" does not pass "me" beside "you"), in a Deny
	// statement it holds if it holds for any value (so StringEquals
	// "prod" catches "prod" beside "dev", and StringNotEquals "me"
	// catches "you" beside "me"). With one value both readings agree.
	if effect == Deny {
		for _, v := range vals {
			if ok(v) {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		if !ok(v) {
			return false
		}
	}
	return true
}

// Match reports whether s matches the IAM wildcard pattern p, in which
// '*' matches any run of characters (also none) and '?' any single
// character. It runs in O(len(p)·len(s)) at worst.
func Match(p, s string) bool { return matchLit(p, nil, s) }

// matchLit is Match with the bytes of p that lit marks (if lit is not nil)
// read as themselves even if they are '*' or '?': those a policy variable
// put there.
func matchLit(p string, lit []bool, s string) bool {
	wild := func(i int, c byte) bool { return p[i] == c && (lit == nil || !lit[i]) }
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && wild(pi, '*'):
			star, mark = pi, si
			pi++
		case pi < len(p) && (wild(pi, '?') || p[pi] == s[si]):
			if wild(pi, '?') {
				// '?' is one character, not one byte.
				_, n := decodeRune(s[si:])
				si += n
			} else {
				si++
			}
			pi++
		case star >= 0:
			pi = star + 1
			_, n := decodeRune(s[mark:])
			mark += n
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && wild(pi, '*') {
		pi++
	}
	return pi == len(p)
}
