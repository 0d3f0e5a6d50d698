package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// Tokens are opaque to clients: a payload and a truncated HMAC-SHA256 under
// a key kept in the store (so tokens survive restarts and work on every
// node). A token cannot be forged or altered to reach another task or page.

const macLen = 16

func (s *Service) seal(payload []byte) string {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write(payload)
	return base64.StdEncoding.EncodeToString(append(payload, m.Sum(nil)[:macLen]...))
}

func (s *Service) unseal(token string) ([]byte, bool) {
	// The decoder skips line breaks; a token with them is not one we made.
	if strings.ContainsAny(token, "\r\n") {
		return nil, false
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) <= macLen {
		return nil, false
	}
	// Only the exact spelling the service made: even the strict decoder
	// skips CR and LF, which would let one token be spelt many ways.
	if base64.StdEncoding.EncodeToString(raw) != token {
		return nil, false
	}
	payload, sum := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write(payload)
	if !hmac.Equal(sum, m.Sum(nil)[:macLen]) {
		return nil, false
	}
	return payload, true
}

// taskRef is what a task token names: one started task of one run.
type taskRef struct {
	Kind        swfd.TaskKind
	Domain      string
	RunID       string
	ScheduledID int64
	StartedID   int64
}

func (s *Service) taskToken(r taskRef) string {
	b := []byte{1}
	if r.Kind == swfd.DecisionTask {
		b = append(b, 'D')
	} else {
		b = append(b, 'A')
	}
	b = binary.AppendUvarint(b, uint64(r.ScheduledID))
	b = binary.AppendUvarint(b, uint64(r.StartedID))
	b = binary.AppendUvarint(b, uint64(len(r.Domain)))
	b = append(b, r.Domain...)
	b = append(b, r.RunID...)
	return s.seal(b)
}

var errBadToken = api.ErrUnknownResource("Unknown task token")

func (s *Service) openTaskToken(token string, kind swfd.TaskKind) (taskRef, error) {
	b, ok := s.unseal(token)
	if !ok || len(b) < 2 || b[0] != 1 {
		return taskRef{}, errBadToken
	}
	r := taskRef{Kind: swfd.ActivityTask}
	if b[1] == 'D' {
		r.Kind = swfd.DecisionTask
	}
	if r.Kind != kind {
		return taskRef{}, errBadToken
	}
	b = b[2:]
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return taskRef{}, errBadToken
		}
		vals[i], b = v, b[n:]
	}
	if uint64(len(b)) < vals[2] {
		return taskRef{}, errBadToken
	}
	r.ScheduledID, r.StartedID = int64(vals[0]), int64(vals[1])
	r.Domain, r.RunID = string(b[:vals[2]]), string(b[vals[2]:])
	return r, nil
}

// Page tokens carry the position after the last item returned, the scope
// (the request's other arguments, which must be resent unchanged) and an
// expiry of 24 hours, as the real service's do.

const pageTokenLifetime = 24 * time.Hour

type pagePayload struct {
	Scope   string `json:"s"`
	After   string `json:"a"`
	Expires int64  `json:"e"`
}

func (s *Service) pageToken(scope, after string) string {
	b, _ := json.Marshal(pagePayload{Scope: scope, After: after, Expires: s.now().Add(pageTokenLifetime).Unix()})
	return s.seal(b)
}

var errBadPageToken = api.ErrValidation("Invalid nextPageToken")

func (s *Service) openPageToken(token, scope string) (string, error) {
	b, ok := s.unseal(token)
	if !ok {
		return "", errBadPageToken
	}
	var p pagePayload
	if err := json.Unmarshal(b, &p); err != nil {
		return "", errBadPageToken
	}
	if p.Scope != scope {
		return "", api.ErrValidation("The nextPageToken does not belong to a request with these arguments")
	}
	if s.now().Unix() > p.Expires {
		return "", api.ErrValidation("Specified token has exceeded its maximum lifetime")
	}
	return p.After, nil
}

func isLetterOrDigitOrSpace(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Zs, unicode.N)
}
