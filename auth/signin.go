package auth

import (
	"context"
	"crypto/subtle"
)

// Authenticate checks an access key id and its secret against the auth file
// in force, as a sign-in form that cannot sign requests does (the web
// console), and returns the key's principal with AccessKeyID set. The
// secret is compared in constant time; an unknown key costs a comparison
// too, so that the answer's timing does not tell which keys exist.
func (k *Keyring) Authenticate(keyID, secret string) (*Principal, bool) {
	p, want, ok := k.Config().lookup(keyID)
	if !ok {
		want = "\x00 no such key; compared so that timing tells nothing \x00"
	}
	match := subtle.ConstantTimeCompare([]byte(want), []byte(secret)) == 1
	if !ok || !match || secret == "" {
		return nil, false
	}
	cp := *p
	cp.AccessKeyID = keyID
	return &cp, true
}

// Principal returns the principal that owns an access key in the auth file
// in force now, with AccessKeyID set, or nil if the file no longer lists the
// key: a session signed in with a key that a reload removed ends.
func (k *Keyring) Principal(keyID string) *Principal {
	return k.Config().Principal(keyID)
}

// Principal returns the principal that owns an access key in c, with
// AccessKeyID set, or nil if c does not list the key (or c is nil).
func (c *Config) Principal(keyID string) *Principal {
	p, _, ok := c.lookup(keyID)
	if !ok {
		return nil
	}
	cp := *p
	cp.AccessKeyID = keyID
	return &cp
}

// Authorize decides, without making it, the call op (an operation name such
// as "DescribeWorkflowExecution") with input in by the principal in ctx: nil
// if it would be allowed, else the OperationNotPermittedFault the call would
// answer (or the ValidationException of tags that repeat a key, which no
// policy is asked about). Views that are not API calls (the console's task
// lists, say) authorize themselves as the API call nearest to what they
// show.
func (g *Guard) Authorize(ctx context.Context, op string, in any) error {
	return g.check(ctx, op, in)
}
