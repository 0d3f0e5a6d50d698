// Package token makes and opens the opaque tokens swfd hands to clients:
// task tokens, which name one started task of one run and its domain (a
// domain whose name is too long to fit the token is told by the run
// instead), and page tokens, which carry where a paged list resumes. A
// token is its payload followed by a truncated HMAC-SHA256 under a key kept
// in the store, so tokens survive restarts, work on every node of a
// cluster, and cannot be forged or altered to reach another task or page.
package token

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// macLen is how many bytes of the HMAC a token carries.
const macLen = 16

// PageLifetime is how long a page token stays valid, as the real service's
// do.
const PageLifetime = 24 * time.Hour

// Faults for tokens that do not open.
var (
	ErrBadTask = api.ErrUnknownResource("Unknown task token")
	ErrBadPage = api.ErrValidation("Invalid nextPageToken")
)

// Keys seals and opens tokens with one key.
type Keys struct {
	key   []byte
	clock swfd.Clock
	runs  Runs
}

// New returns Keys sealing with key; page tokens expire by clock, and runs
// tells TaskDomain the domains of task tokens that do not carry them (with
// nil, their domains cannot be told).
func New(key []byte, clock swfd.Clock, runs Runs) *Keys {
	return &Keys{key: key, clock: clock, runs: runs}
}

func (k *Keys) seal(payload []byte) string {
	m := hmac.New(sha256.New, k.key)
	m.Write(payload)
	return base64.StdEncoding.EncodeToString(append(payload, m.Sum(nil)[:macLen]...))
}

func (k *Keys) unseal(token string) ([]byte, bool) {
	// The decoder skips line breaks; a token with them is not one we made.
	if strings.ContainsAny(token, "\r\n") {
		return nil, false
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) <= macLen {
		return nil, false
	}
	// Only the exact spelling Keys made: even the strict decoder skips CR
	// and LF, which would let one token be spelt many ways.
	if base64.StdEncoding.EncodeToString(raw) != token {
		return nil, false
	}
	payload, sum := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	m := hmac.New(sha256.New, k.key)
	m.Write(payload)
	if !hmac.Equal(sum, m.Sum(nil)[:macLen]) {
		return nil, false
	}
	return payload, true
}

// Task is what a task token names: one started task of one run.
type Task struct {
	Kind        swfd.TaskKind
	Domain      string
	RunID       string
	ScheduledID int64
	StartedID   int64
}

// MaxTaskTokenLen is the most characters a task token may have: the SWF
// model's limit, which the task-token operations' validation enforces.
const MaxTaskTokenLen = 1024

// A task token's payload is a format byte, the kind ('D' or 'A'), the
// scheduled and started event ids as uvarints, then either the domain's
// length as a uvarint, the domain and the run id (taskInline), or the run
// id alone (taskByRun). The domain goes inline whenever the token still
// fits MaxTaskTokenLen, as it always does for a domain of up to 512 bytes
// (every ASCII name) and a run id of up to 64 characters: those tokens are
// the ones swfd has always made. A name of 256 characters may take 1024
// bytes, too many: the token of its tasks leaves it out, and the domain is
// the run's (Runs tells it to TaskDomain; OpenTask leaves it to the
// caller, which reads the run). Keys opens a token
// only in the format it would make for that task, so that each task has
// one token. The format bytes are distinct from a page token's (pageFormat,
// or '{'), which is sealed with the same key.
const (
	taskInline = 1
	taskByRun  = 3
)

// Runs tells the domain of a run, for TaskDomain to tell the domain of a
// task token that does not carry it; the service's run store implements
// it.
type Runs interface {
	// RunDomain returns the domain of a run; an error wrapping
	// swfd.ErrNotFound when there is no such run.
	RunDomain(ctx context.Context, runID string) (string, error)
}

// sealedLen is the length of the token sealing a payload of n bytes.
func sealedLen(n int) int { return base64.StdEncoding.EncodedLen(n + macLen) }

// inlineLen is the length of t's payload with the domain inline.
func inlineLen(t Task) int {
	return 2 + uvarintLen(uint64(t.ScheduledID)) + uvarintLen(uint64(t.StartedID)) +
		uvarintLen(uint64(len(t.Domain))) + len(t.Domain) + len(t.RunID)
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// fitsInline reports whether t's token carries its domain.
func fitsInline(t Task) bool { return sealedLen(inlineLen(t)) <= MaxTaskTokenLen }

// TaskToken returns the token of a started task; it is at most
// MaxTaskTokenLen characters for every valid domain name and run id.
func (k *Keys) TaskToken(t Task) string {
	format := byte(taskInline)
	if !fitsInline(t) {
		format = taskByRun
	}
	b := make([]byte, 0, inlineLen(t))
	b = append(b, format)
	if t.Kind == swfd.DecisionTask {
		b = append(b, 'D')
	} else {
		b = append(b, 'A')
	}
	b = binary.AppendUvarint(b, uint64(t.ScheduledID))
	b = binary.AppendUvarint(b, uint64(t.StartedID))
	if format == taskInline {
		b = binary.AppendUvarint(b, uint64(len(t.Domain)))
		b = append(b, t.Domain...)
	}
	b = append(b, t.RunID...)
	return k.seal(b)
}

// openTask unseals a task token of either kind. Its domain is set only
// when the token carries it (inline).
func (k *Keys) openTask(token string) (t Task, inline bool, ok bool) {
	if len(token) > MaxTaskTokenLen {
		// Keys made such tokens once, with the longest domain names;
		// no call ever accepted them.
		return Task{}, false, false
	}
	b, ok := k.unseal(token)
	if !ok || len(b) < 2 || b[0] != taskInline && b[0] != taskByRun {
		return Task{}, false, false
	}
	switch b[1] {
	case 'D':
		t.Kind = swfd.DecisionTask
	case 'A':
		t.Kind = swfd.ActivityTask
	default:
		return Task{}, false, false
	}
	inline = b[0] == taskInline
	n := 2
	if inline {
		n = 3
	}
	var vals [3]uint64
	b = b[2:]
	for i := range vals[:n] {
		v, m := binary.Uvarint(b)
		if m <= 0 {
			return Task{}, false, false
		}
		vals[i], b = v, b[m:]
	}
	t.ScheduledID, t.StartedID = int64(vals[0]), int64(vals[1])
	if inline {
		// A domain's name is never empty, and an opened task's Domain
		// is "" only when the token left it out.
		if vals[2] == 0 || uint64(len(b)) < vals[2] {
			return Task{}, false, false
		}
		t.Domain, b = string(b[:vals[2]]), b[vals[2]:]
	}
	t.RunID = string(b)
	return t, inline, true
}

// OpenTask opens a task token of the given kind; ErrBadTask if it is not
// one these keys made for a task of that kind. It asks Runs nothing: a
// token that leaves its domain out opens with Domain "", and the caller,
// which reads the run the token names anyway, takes the domain from that
// run once it has checked it with InDomain. The run is then read once.
func (k *Keys) OpenTask(token string, kind swfd.TaskKind) (Task, error) {
	t, _, ok := k.openTask(token)
	if !ok || t.Kind != kind {
		return Task{}, ErrBadTask
	}
	return t, nil
}

// InDomain reports whether the task a token names can be in domain, the
// domain of the run it names: a token that carries its domain names that
// domain only, one that leaves it out (Domain "") only a domain too long
// for the token, as Keys makes one token per task. A task that is not is
// no task (ErrBadTask).
func (t Task) InDomain(domain string) bool {
	if t.Domain != "" {
		return t.Domain == domain
	}
	t.Domain = domain
	return domain != "" && !fitsInline(t)
}

// TaskDomain returns the domain of the task a token of either kind names,
// for authorizing the call that carries it. ok is false for a token these
// keys did not make (or did not make for the run it names): it names no
// task. A token they made that leaves its domain out is told by its run;
// once that run is gone (purged) its domain can no longer be told, and it
// is ok with domain "" (as it is with no Runs to ask). An error says the
// run's domain could not be read.
func (k *Keys) TaskDomain(ctx context.Context, token string) (domain string, ok bool, err error) {
	t, inline, ok := k.openTask(token)
	if !ok {
		return "", false, nil
	}
	if inline {
		return t.Domain, true, nil
	}
	if k.runs == nil {
		return "", true, nil
	}
	d, err := k.runs.RunDomain(ctx, t.RunID)
	if errors.Is(err, swfd.ErrNotFound) {
		return "", true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("token: domain of run %s: %w", t.RunID, err)
	}
	if !t.InDomain(d) {
		return "", false, nil
	}
	return d, true, nil
}

// TaskRun returns the run of the task a task token names, of either kind;
// ok is false for a token these keys did not make. It asks nothing of
// Runs: every task token carries its run.
func (k *Keys) TaskRun(token string) (string, bool) {
	t, _, ok := k.openTask(token)
	return t.RunID, ok
}

// A page token carries the position after the last item returned, a digest
// of the scope (the request's other arguments, which must be sent again
// unchanged) and its expiry. Its payload is pageFormat, the expiry as a
// uvarint of Unix seconds, the scope's digest (digestLen bytes), then the
// position as it was given. The scope goes in as a digest, not as itself,
// so that a token stays within the 2048 characters the SWF model allows a
// page token however long the names in the scope are: a scope can hold a
// domain, a task list and filters of 256 characters each, up to four bytes
// a character.
const (
	pageFormat = 2
	digestLen  = 16
)

// legacyPage is the payload of page tokens made before pageFormat (a JSON
// object, so its first byte is '{'): they are still opened for as long as
// they live, so that a client paging across an upgrade is not refused.
type legacyPage struct {
	Scope   string `json:"s"`
	After   string `json:"a"`
	Expires int64  `json:"e"`
}

// page is what a page token's payload says.
type page struct {
	digest  []byte // the scope's, or nil in a legacy token
	scope   string // a legacy token's scope
	after   string
	expires int64
}

// belongs reports whether the page was made for scope.
func (p page) belongs(scope string) bool {
	if p.digest == nil {
		return p.scope == scope
	}
	return hmac.Equal(p.digest, scopeDigest(scope))
}

func scopeDigest(scope string) []byte {
	sum := sha256.Sum256([]byte(scope))
	return sum[:digestLen]
}

// PageToken returns a token to resume a list of scope after position
// after.
func (k *Keys) PageToken(scope, after string) string {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+digestLen+len(after))
	b = append(b, pageFormat)
	b = binary.AppendUvarint(b, uint64(k.clock.Now().Add(PageLifetime).Unix()))
	b = append(b, scopeDigest(scope)...)
	b = append(b, after...)
	return k.seal(b)
}

// decodePage reads an unsealed page token's payload.
func decodePage(b []byte) (page, bool) {
	if len(b) > 0 && b[0] == '{' {
		var l legacyPage
		if err := json.Unmarshal(b, &l); err != nil {
			return page{}, false
		}
		return page{scope: l.Scope, after: l.After, expires: l.Expires}, true
	}
	if len(b) == 0 || b[0] != pageFormat {
		return page{}, false
	}
	exp, n := binary.Uvarint(b[1:])
	if n <= 0 || exp > 1<<62 || len(b) < 1+n+digestLen {
		return page{}, false
	}
	b = b[1+n:]
	return page{digest: b[:digestLen], after: string(b[digestLen:]), expires: int64(exp)}, true
}

// OpenPage opens a page token of scope and returns its position; a
// ValidationException if the token is not one these keys made, belongs to
// another scope, or has expired.
func (k *Keys) OpenPage(token, scope string) (string, error) {
	b, ok := k.unseal(token)
	if !ok {
		return "", ErrBadPage
	}
	p, ok := decodePage(b)
	if !ok {
		return "", ErrBadPage
	}
	if !p.belongs(scope) {
		return "", api.ErrValidation("The nextPageToken does not belong to a request with these arguments")
	}
	if k.clock.Now().Unix() > p.expires {
		return "", api.ErrValidation("Specified token has exceeded its maximum lifetime")
	}
	return p.after, nil
}

// PageSize is the number of items a page holds for a request's
// maximumPageSize: 1000 when it is 0 or out of range.
func PageSize(n int) int {
	if n <= 0 || n > 1000 {
		return 1000
	}
	return n
}
