package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfigErrors(t *testing.T) {
	const pol = `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*"}}`
	cases := []struct{ name, doc, err string }{
		{"not json", `{`, "auth file"},
		{"unknown field", `{"principals": [], "extra": 1}`, "unknown field"},
		{"no principals", `{"principals": []}`, "no principals"},
		{"no name", `{"principals": [{"accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}]}]}`, "missing name"},
		{"duplicate name", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}]}, {"name": "a", "accessKeys": [{"accessKeyId": "B", "secretAccessKey": "s"}]}]}`, "used twice"},
		{"no keys", `{"principals": [{"name": "a"}]}`, "no accessKeys"},
		{"empty key id", `{"principals": [{"name": "a", "accessKeys": [{"secretAccessKey": "s"}]}]}`, "no accessKeyId"},
		{"slash in key id", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A/B", "secretAccessKey": "s"}]}]}`, "may not contain"},
		{"no secret", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A"}]}]}`, "no secretAccessKey"},
		// A secret that begins or ends with white space (a line end
		// copied with it) cannot be given to a client that reads it from
		// an AWS credentials file, which drops that white space: every
		// signature would be refused with no word of why.
		{"secret ends with a line end", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s\n"}]}]}`, `principal "a": access key A: its secretAccessKey ends with white space`},
		{"secret begins with a space", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": " s"}]}]}`, `access key A: its secretAccessKey begins with white space`},
		{"duplicate key", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}]}, {"name": "b", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "t"}]}]}`, "listed twice"},
		{"bad policy", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}], "policies": [{"Statement": {"Effect": "Maybe", "Action": "swf:*", "Resource": "*"}}]}]}`, `principal "a": policy 1: statement 1: Effect`},
		{"bad policy string", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}], "policies": ["{"]}]}`, "policy 1"},
		// A member given twice: decoding would keep only the last.
		{"policies twice", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}], "policies": [` + pol + `], "policies": []}]}`, `principals[1] gives the member "policies" twice`},
		{"policies twice in two cases", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}], "policies": [` + pol + `], "Policies": []}]}`, `gives the member "Policies" twice`},
		{"principals twice", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}]}], "principals": [{"name": "b", "accessKeys": [{"accessKeyId": "B", "secretAccessKey": "s"}]}]}`, `gives the member "principals" twice`},
		{"secret twice", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s", "secretAccessKey": "s"}]}]}`, `principals[1].accessKeys[1] gives the member "secretAccessKey" twice`},
		{"statement member twice in a policy", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}], "policies": [{"Statement": {"Effect": "Deny", "Effect": "Allow", "Action": "swf:*", "Resource": "*"}}]}]}`, `principal "a": policy 1: Statement gives the member "Effect" twice`},
		{"statement member twice in a policy string", `{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}], "policies": [` + strconvQuote(`{"Statement": {"Effect": "Deny", "Effect": "Allow", "Action": "swf:*", "Resource": "*"}}`) + `]}]}`, `principal "a": policy 1: Statement gives the member "Effect" twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v, want %q", err, c.err)
			}
			if strings.Contains(fmt.Sprint(err), `"s"`) {
				t.Fatalf("secret in error: %v", err)
			}
		})
	}
	// A policy may be an object or a string holding one.
	c, err := ParseConfig([]byte(`{"principals": [{"name": "a", "accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s"}, {"accessKeyId": "A2", "secretAccessKey": "s2"}],
		"policies": [` + pol + `, ` + strconvQuote(pol) + `]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p, s, ok := c.lookup("A2"); !ok || p.Name != "a" || s != "s2" || len(p.Policies) != 2 {
		t.Fatalf("%v %v %v", p, s, ok)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "secret", s, "key", fileKey{AccessKeyID: "A", SecretAccessKey: s})
	b, _ := json.Marshal(fileKey{AccessKeyID: "A", SecretAccessKey: s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, fileKey{SecretAccessKey: s}, fileKey{SecretAccessKey: s}, s), buf.String(), string(b)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestKeyringLoadAndReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	one := `{"principals": [{"name": "one", "accessKeys": [{"accessKeyId": "K1", "secretAccessKey": "topsecret1"}]}]}`
	two := `{"principals": [{"name": "two", "accessKeys": [{"accessKeyId": "K2", "secretAccessKey": "topsecret2"}]}]}`
	writeFile(t, path, one, 0o600)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	k, err := LoadKeyring(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "readable") {
		t.Fatalf("warned about a private file: %s", buf.String())
	}
	if _, _, ok := k.Config().lookup("K1"); !ok {
		t.Fatal("K1 missing")
	}
	old := k.Config()

	writeFile(t, path, two, 0o644)
	if err := k.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := k.Config().lookup("K1"); ok {
		t.Fatal("K1 still there")
	}
	if p, _, ok := k.Config().lookup("K2"); !ok || p.Name != "two" {
		t.Fatal("K2 missing")
	}
	if _, _, ok := old.lookup("K1"); !ok {
		t.Fatal("the old config changed under its readers")
	}
	if !strings.Contains(buf.String(), "readable by every user") {
		t.Fatalf("no warning for a world-readable file: %s", buf.String())
	}

	// An invalid file leaves the last good one in force.
	writeFile(t, path, `{"principals": [`, 0o600)
	if err := k.Reload(); err == nil {
		t.Fatal("invalid file reloaded")
	}
	if _, _, ok := k.Config().lookup("K2"); !ok {
		t.Fatal("K2 lost after a failed reload")
	}
	os.Remove(path)
	if err := k.Reload(); err == nil {
		t.Fatal("missing file reloaded")
	}
	if strings.Contains(buf.String(), "topsecret") {
		t.Fatalf("secret logged: %s", buf.String())
	}
	if _, err := LoadKeyring(filepath.Join(dir, "nope.json"), nil); err == nil {
		t.Fatal("loaded a missing file")
	}
}

// Changed tells of each reload that puts a file in force, to whoever took
// the channel before it, and of no failed one.
func TestKeyringChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	one := `{"principals": [{"name": "one", "accessKeys": [{"accessKeyId": "K1", "secretAccessKey": "topsecret1"}]}]}`
	writeFile(t, path, one, 0o600)
	k, err := LoadKeyring(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	before, again := k.Changed(), k.Changed()
	if closed(before) {
		t.Fatal("Changed is closed before any reload")
	}
	writeFile(t, path, `{"principals": [`, 0o600)
	if err := k.Reload(); err == nil {
		t.Fatal("invalid file reloaded")
	}
	if closed(before) {
		t.Error("a failed reload closed Changed")
	}
	if k.Principal("K1") == nil {
		t.Fatal("K1 lost after a failed reload")
	}
	writeFile(t, path, strings.ReplaceAll(one, "K1", "K2"), 0o600)
	if err := k.Reload(); err != nil {
		t.Fatal(err)
	}
	if !closed(before) || !closed(again) {
		t.Error("a reload did not close the channels Changed gave before it")
	}
	after := k.Changed()
	if closed(after) {
		t.Error("Changed taken after the reload is closed already")
	}
	if k.Principal("K1") != nil || k.Principal("K2") == nil || k.Principal("K2").AccessKeyID != "K2" {
		t.Error("Principal does not follow the file in force")
	}
	if err := k.Reload(); err != nil {
		t.Fatal(err)
	}
	if !closed(after) {
		t.Error("a second reload did not close Changed")
	}
}

// The auth file shown in docs/auth.md loads, and means what it says.
func TestDocsExample(t *testing.T) {
	b, err := os.ReadFile("../docs/auth.md")
	if err != nil {
		t.Skip(err)
	}
	s := string(b)
	i := strings.Index(s, "```json\n")
	j := strings.Index(s[i+8:], "```")
	c, err := ParseConfig([]byte(s[i+8 : i+8+j]))
	if err != nil {
		t.Fatal(err)
	}
	dec, _, ok := c.lookup("AKIADECIDER00000001")
	if !ok {
		t.Fatal("decider key missing")
	}
	orders := DomainResource("us-east-1", "123456789012", "orders")
	var list, workers, other Keys
	list.Set("swf:taskList.name", "deciders")
	workers.Set("swf:taskList.name", "workers")
	other.Set("swf:taskList.name", "other")
	for _, c := range []struct {
		action string
		res    Resource
		keys   Keys
		want   Decision
	}{
		{"swf:PollForDecisionTask", orders, list, Allowed},
		{"swf:PollForDecisionTask", orders, other, ImplicitDeny},
		{"swf:PollForDecisionTask", DomainResource("us-east-1", "123456789012", "billing"), list, ImplicitDeny},
		{"swf:RespondDecisionTaskCompleted", orders, Keys{}, Allowed},
		{"swf:ScheduleActivityTask", orders, workers, Allowed},
		{"swf:ScheduleActivityTask", orders, other, ImplicitDeny},
		{"swf:CompleteWorkflowExecution", orders, Keys{}, Allowed},
		{"swf:RequestCancelExternalWorkflowExecution", orders, Keys{}, ExplicitDeny},
		{"swf:StartWorkflowExecution", orders, list, ImplicitDeny},
	} {
		if got := dec.Evaluate("us-east-1", acct, c.action, c.res, c.keys); got != c.want {
			t.Errorf("%s: %v, want %v", c.action, got, c.want)
		}
	}
}

// An auth file path that names a directory is refused saying so, with no
// warning first that "the auth file is readable by every user" (a
// directory's mode, read as a file's, said chmod 600 it).
func TestAuthFileThatIsADirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, err := LoadKeyring(dir, slog.New(slog.NewTextHandler(&buf, nil)))
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("LoadKeyring of a directory: %v, want an error saying it is a directory", err)
	}
	if strings.Contains(buf.String(), "chmod") {
		t.Errorf("a directory given as the auth file was warned of as a readable file:\n%s", buf.String())
	}
}

// An auth file past cfgfile's bound (16 MiB, far beyond any real one) is
// refused without being read: it was read whole into memory, however big.
func TestAuthFileTooBig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 1<<30); err != nil {
		t.Skipf("no sparse file here: %v", err)
	}
	_, err := LoadKeyring(path, nil)
	if err == nil || !strings.Contains(err.Error(), "auth file: "+path+" is 1073741824 bytes, more than the 16 MiB the auth file may hold") {
		t.Errorf("LoadKeyring of a 1 GiB file: %v, want it refused for its size", err)
	}
}
