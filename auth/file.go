package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/swfd/swfd/internal/cfgfile"
	"github.com/swfd/swfd/internal/jsonmember"
)

// The auth file is JSON:
//
//	{
//	  "principals": [
//	    {
//	      "name": "operator",
//	      "accessKeys": [{"accessKeyId": "AKIA…", "secretAccessKey": "…"}],
//	      "policies": [{"Version": "2012-10-17", "Statement": [ … ]}]
//	    }
//	  ]
//	}
//
// A policy may also be given as a string holding the JSON document, as
// AWS APIs take them.
type fileFormat struct {
	Principals []filePrincipal `json:"principals"`
}

type filePrincipal struct {
	Name       string            `json:"name"`
	AccessKeys []fileKey         `json:"accessKeys"`
	Policies   []json.RawMessage `json:"policies"`
}

type fileKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey Secret `json:"secretAccessKey"`
}

// Secret is a secret access key. It never prints: formatting or logging
// it gives "[redacted]".
type Secret string

func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return "[redacted]" }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON keeps a Secret out of JSON output.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// UnmarshalJSON reads a secret from the auth file.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("secretAccessKey must be a string")
	}
	*s = Secret(v)
	return nil
}

// credential is one access key of a principal.
type credential struct {
	principal *Principal
	secret    Secret
}

// Config is one loaded auth file: access keys and the principals they
// belong to. It is immutable.
type Config struct {
	Principals []*Principal
	keys       map[string]credential
}

// lookup returns the principal and secret of an access key id.
func (c *Config) lookup(keyID string) (*Principal, Secret, bool) {
	if c == nil {
		return nil, "", false
	}
	cr, ok := c.keys[keyID]
	return cr.principal, cr.secret, ok
}

// ParseConfig parses an auth file's contents.
func ParseConfig(b []byte) (*Config, error) {
	var f fileFormat
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("auth file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("auth file: trailing data after the JSON object")
	}
	// Members are matched to fields whatever their case, and decoding
	// keeps the last of one given twice; each policy is checked on its
	// own (ParsePolicy), where case matters.
	if err := jsonmember.Unique(b, reflect.TypeFor[fileFormat]()); err != nil {
		return nil, fmt.Errorf("auth file: %w", err)
	}
	if len(f.Principals) == 0 {
		return nil, errors.New(`auth file: no principals (expected {"principals": [...]})`)
	}
	c := &Config{keys: map[string]credential{}}
	names := map[string]bool{}
	for i, fp := range f.Principals {
		where := fmt.Sprintf("auth file: principal %d", i+1)
		if fp.Name == "" {
			return nil, fmt.Errorf("%s: missing name", where)
		}
		where = fmt.Sprintf("auth file: principal %q", fp.Name)
		if names[fp.Name] {
			return nil, fmt.Errorf("%s: name used twice", where)
		}
		names[fp.Name] = true
		if len(fp.AccessKeys) == 0 {
			return nil, fmt.Errorf("%s: no accessKeys", where)
		}
		p := &Principal{Name: fp.Name}
		for j, raw := range fp.Policies {
			doc := []byte(raw)
			var s string
			if json.Unmarshal(raw, &s) == nil {
				doc = []byte(s)
			}
			pol, err := ParsePolicy(doc)
			if err != nil {
				return nil, fmt.Errorf("%s: policy %d: %w", where, j+1, err)
			}
			p.Policies = append(p.Policies, pol)
		}
		for _, k := range fp.AccessKeys {
			if err := checkKeyID(k.AccessKeyID); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if k.SecretAccessKey == "" {
				return nil, fmt.Errorf("%s: access key %s has no secretAccessKey", where, k.AccessKeyID)
			}
			if sec := string(k.SecretAccessKey); strings.TrimSpace(sec) != sec {
				// A line end copied with the secret, say: AWS credential
				// files drop it, so a client given the secret that way
				// would sign with another and be refused without a word
				// of why. (The secret itself is not shown.)
				end := "ends"
				if strings.TrimLeftFunc(sec, unicode.IsSpace) != sec {
					end = "begins"
				}
				return nil, fmt.Errorf("%s: access key %s: its secretAccessKey %s with white space, which AWS credential files drop: remove it", where, k.AccessKeyID, end)
			}
			if _, dup := c.keys[k.AccessKeyID]; dup {
				return nil, fmt.Errorf("%s: access key %s is listed twice", where, k.AccessKeyID)
			}
			c.keys[k.AccessKeyID] = credential{principal: p, secret: k.SecretAccessKey}
		}
		c.Principals = append(c.Principals, p)
	}
	return c, nil
}

// checkKeyID refuses access key ids a SigV4 Credential could not carry.
func checkKeyID(id string) error {
	if id == "" {
		return errors.New("an access key has no accessKeyId")
	}
	if strings.ContainsAny(id, "/, \t\r\n=") {
		return fmt.Errorf("accessKeyId %q may not contain '/', ',', '=' or white space", id)
	}
	return nil
}

// Keyring holds the auth file currently in force and reloads it on
// demand; readers always see one complete file, old or new.
type Keyring struct {
	path string
	log  *slog.Logger
	cur  atomic.Pointer[Config]

	mu sync.Mutex
	// changed is closed when Reload puts a file in force, then made
	// again by the next Changed; nil while no one waits.
	changed chan struct{}
}

// NewKeyring returns a Keyring serving c (for tests and embedding).
func NewKeyring(c *Config) *Keyring {
	k := &Keyring{log: slog.New(slog.DiscardHandler)}
	k.cur.Store(c)
	return k
}

// LoadKeyring loads the auth file at path. A file others can read earns a
// warning in log (it holds secret keys).
func LoadKeyring(path string, log *slog.Logger) (*Keyring, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := &Keyring{path: path, log: log}
	if err := k.Reload(); err != nil {
		return nil, err
	}
	return k, nil
}

// Reload reads the auth file again and, if it is valid, puts it in force
// at once for new requests and closes the channel Changed gave; requests
// already authenticated finish with the principals they had (unless, as
// the console's live streams do, they watch Changed). An invalid file
// leaves the old one in force.
func (k *Keyring) Reload() error {
	if k.path == "" {
		return errors.New("auth: no auth file to reload")
	}
	fi, err := os.Stat(k.path)
	if err != nil {
		return fmt.Errorf("auth file: %w", err)
	}
	// A named pipe, a device, a socket: reading one may wait for a writer
	// that never comes (at start, where SIGINT and SIGTERM could not stop
	// swfd, or at a SIGHUP) or never end (/dev/zero), and a pipe read once
	// has nothing for the next reload.
	if err := cfgfile.Regular("auth file", k.path, fi); err != nil {
		return fmt.Errorf("auth file: %w", err)
	}
	if fi.Mode().Perm()&0o004 != 0 {
		k.log.Warn("the auth file is readable by every user of this machine; it holds secret keys: chmod 600 it",
			"path", k.path, "mode", fi.Mode().Perm().String())
	}
	// Read as the other files swfd loads are: bounded in size, and
	// judged again once open (the path may have changed since).
	b, err := cfgfile.Read("auth file", k.path)
	if err != nil {
		return fmt.Errorf("auth file: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return fmt.Errorf("%s: %w", k.path, err)
	}
	k.cur.Store(c)
	k.mu.Lock()
	if k.changed != nil {
		close(k.changed)
		k.changed = nil
	}
	k.mu.Unlock()
	k.log.Info("auth file loaded", "path", k.path, "principals", len(c.Principals), "access_keys", len(c.keys))
	return nil
}

// Config returns the configuration in force.
func (k *Keyring) Config() *Config { return k.cur.Load() }

// Changed returns a channel that is closed when a reload next puts a file
// in force. Whoever takes the channel before reading Config misses no
// reload: one that lands in between closes the channel too.
func (k *Keyring) Changed() <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.changed == nil {
		k.changed = make(chan struct{})
	}
	return k.changed
}

// Path is the auth file's path ("" for a Keyring made by NewKeyring).
func (k *Keyring) Path() string { return k.path }
