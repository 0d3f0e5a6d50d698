// Package token makes and opens the opaque tokens swfd hands to clients:
// task tokens, which name one started task of one run, and page tokens,
// which carry where a paged list resumes. A token is its payload followed
// by a truncated HMAC-SHA256 under a key kept in the store, so tokens
// survive restarts, work on every node of a cluster, and cannot be forged
// or altered to reach another task or page.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
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
}

// New returns Keys sealing with key; page tokens expire by clock.
func New(key []byte, clock swfd.Clock) *Keys {
	return &Keys{key: key, clock: clock}
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

// TaskToken returns the token of a started task.
func (k *Keys) TaskToken(t Task) string {
	b := []byte{1}
	if t.Kind == swfd.DecisionTask {
		b = append(b, 'D')
	} else {
		b = append(b, 'A')
	}
	b = binary.AppendUvarint(b, uint64(t.ScheduledID))
	b = binary.AppendUvarint(b, uint64(t.StartedID))
	b = binary.AppendUvarint(b, uint64(len(t.Domain)))
	b = append(b, t.Domain...)
	b = append(b, t.RunID...)
	return k.seal(b)
}

// OpenTask opens a task token of the given kind; ErrBadTask if it is not
// one these keys made for a task of that kind.
func (k *Keys) OpenTask(token string, kind swfd.TaskKind) (Task, error) {
	b, ok := k.unseal(token)
	if !ok || len(b) < 2 || b[0] != 1 {
		return Task{}, ErrBadTask
	}
	t := Task{Kind: swfd.ActivityTask}
	if b[1] == 'D' {
		t.Kind = swfd.DecisionTask
	}
	if t.Kind != kind {
		return Task{}, ErrBadTask
	}
	b = b[2:]
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return Task{}, ErrBadTask
		}
		vals[i], b = v, b[n:]
	}
	if uint64(len(b)) < vals[2] {
		return Task{}, ErrBadTask
	}
	t.ScheduledID, t.StartedID = int64(vals[0]), int64(vals[1])
	t.Domain, t.RunID = string(b[:vals[2]]), string(b[vals[2]:])
	return t, nil
}

// TaskDomain returns the domain of the task a token of either kind names;
// ok is false for a token these keys did not make.
func (k *Keys) TaskDomain(token string) (string, bool) {
	for _, kind := range []swfd.TaskKind{swfd.DecisionTask, swfd.ActivityTask} {
		if t, err := k.OpenTask(token, kind); err == nil {
			return t.Domain, true
		}
	}
	return "", false
}

// TaskRun returns the run of the task a task token names, of either kind;
// ok is false for a token these keys did not make.
func (k *Keys) TaskRun(token string) (string, bool) {
	for _, kind := range []swfd.TaskKind{swfd.ActivityTask, swfd.DecisionTask} {
		if t, err := k.OpenTask(token, kind); err == nil {
			return t.RunID, true
		}
	}
	return "", false
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
