package auth

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The signers of the real SWF clients other than botocore and
// aws-sdk-go-v2 (see sigv4_whitespace_test.go for those two), each signing
// and sending requests to a verifying server with its own code: the
// JavaScript SDKs v3 and v2 (Node's HTTP), Ruby's aws-sdk v1 (its Net::HTTP
// handler) and boto 2. Each test is skipped when its interpreter or
// library is not installed (clients/run-all.sh installs them all).

// signerCase is a request for a client's signer: with the header Header
// set to Value, and the query Query; After, if set, replaces the header's
// value once the request is signed, which must then be refused.
type signerCase struct {
	what   string
	Header string `json:"header,omitempty"`
	Value  string `json:"value,omitempty"`
	After  string `json:"after,omitempty"`
	Query  string `json:"query,omitempty"`
}

// signerRun is what a signer script reads on its standard input.
type signerRun struct {
	Key      string       `json:"key"`
	Secret   string       `json:"secret"`
	Host     string       `json:"host"`
	Port     string       `json:"port"`
	Body     string       `json:"body"`
	Requests []signerCase `json:"requests"`
}

// runSigner runs the script (written to a file named name) with the
// interpreter interp and the arguments args after it, giving it the requests as a signerRun on
// standard input, and returns the status and body of each answer.
func runSigner(t *testing.T, vs *verifyServer, interp, name, script string, args, env []string, body string, reqs []signerCase) []botoResult {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(strings.TrimPrefix(vs.URL, "http://"), ":")
	in, err := json.Marshal(signerRun{Key: testKey, Secret: testSecret, Host: host, Port: port, Body: body, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(interp, append([]string{path}, args...)...)
	cmd.Env = append(signerEnv(), env...)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s: %v\n%s", name, err, ee.Stderr)
		}
		t.Fatalf("%s: %v", name, err)
	}
	var res []botoResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(reqs) {
		t.Fatalf("%s output %q: %v", name, out, err)
	}
	return res
}

// signerEnv is the environment of a signer: no AWS settings or proxies of
// the machine's.
func signerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.EqualFold(k, "http_proxy"), strings.EqualFold(k, "https_proxy"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "NO_PROXY=*")
}

// checkSigned checks each answer: 200 from the operator's key for a
// request left as signed, InvalidSignatureException for one whose header
// was changed after.
func checkSigned(t *testing.T, client string, cases []signerCase, res []botoResult) {
	t.Helper()
	for i, r := range res {
		c := cases[i]
		if c.After == "" && (r.Status != 200 || r.Body != "ok operator "+testKey) {
			t.Errorf("%s: %s (%s %q, query %q): %d %s", client, c.what, c.Header, c.Value, c.Query, r.Status, r.Body)
		}
		if c.After != "" && (r.Status != 400 || !strings.HasPrefix(r.Body, InvalidSignature+" ")) {
			t.Errorf("%s: %s (%s %q changed to %q after signing): %d %s", client, c.what, c.Header, c.Value, c.After, r.Status, r.Body)
		}
	}
}

// headerCases are cases for each of values in an x-amz-meta- header and
// in another, each also changed after signing (its white space taken out).
func headerCases(values []struct{ name, value string }) []signerCase {
	var cs []signerCase
	for _, v := range values {
		for _, h := range []string{"X-Amz-Meta-Note", "X-Order-Note"} {
			cs = append(cs,
				signerCase{what: v.name, Header: h, Value: v.value},
				signerCase{what: v.name + ", changed after signing", Header: h, Value: v.value, After: unspaced(v.value) + "!"})
		}
	}
	return cs
}

// nodeModules is clients/js/node_modules, where clients/run-all.sh
// installs the JavaScript SDKs; the test is skipped without node or
// without module there.
func nodeModules(t *testing.T, module string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	dir, err := filepath.Abs(filepath.Join("..", "clients", "js", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, module, "package.json")); err != nil {
		t.Skipf("%s not installed in %s (npm ci in clients/js)", module, dir)
	}
	return dir
}

// jsSignScript signs and sends each request with the JavaScript SDK named
// by its first argument: "v3", @aws-sdk/client-swf's own client (a
// ListDomains call, the header and query added before it signs, sent by
// its Node HTTP handler, which this script wraps to change a header after
// signing and to read the raw answer), or "v2", aws-sdk 2.0.31's AWS.SWF
// (the endpoint given the query, the header added as the request is
// built, changed after the signer's own "sign" listener).
const jsSignScript = `
const results = [];
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => main(JSON.parse(input)).then(
  () => console.log(JSON.stringify(results)),
  (e) => { console.error(e); process.exit(1); }));

async function main(c) {
  const sdk = process.argv[2];
  for (const r of c.requests) {
    const endpoint = "http://" + c.host + ":" + c.port + "/" + (r.query ? "?" + r.query : "");
    results.push(sdk === "v3" ? await v3(c, r, endpoint) : await v2(c, r, endpoint));
  }
}

async function v3(c, r, endpoint) {
  const { SWFClient, ListDomainsCommand } = require("@aws-sdk/client-swf");
  const { NodeHttpHandler } = require("@smithy/node-http-handler");
  const real = new NodeHttpHandler();
  let answer;
  const requestHandler = {
    metadata: real.metadata,
    destroy: () => real.destroy(),
    handle: async (req, opts) => {
      if (r.after) req.headers[r.header.toLowerCase()] = r.after;
      const { response } = await real.handle(req, opts);
      const chunks = [];
      for await (const chunk of response.body) chunks.push(chunk);
      answer = { status: response.statusCode, body: Buffer.concat(chunks).toString() };
      throw new Error("answer read");
    },
  };
  const client = new SWFClient({ region: "us-east-1", endpoint, maxAttempts: 1, requestHandler,
    credentials: { accessKeyId: c.key, secretAccessKey: c.secret } });
  client.middlewareStack.add((next) => (args) => {
    if (r.header) args.request.headers[r.header.toLowerCase()] = r.value;
    return next(args);
  }, { step: "build" });
  try {
    await client.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }));
  } catch (e) {
    if (!answer) throw e;
  }
  return answer;
}

function v2(c, r, endpoint) {
  const AWS = require("aws-sdk");
  return new Promise((resolve) => {
    const swf = new AWS.SWF({ region: "us-east-1", endpoint, maxRetries: 0,
      accessKeyId: c.key, secretAccessKey: c.secret });
    const req = swf.listDomains({ registrationStatus: "REGISTERED" });
    if (r.header) req.on("build", (q) => { q.httpRequest.headers[r.header] = r.value; });
    if (r.after) req.on("sign", (q) => { q.httpRequest.headers[r.header] = r.after; });
    req.on("complete", (resp) => resolve({
      status: resp.httpResponse.statusCode,
      body: String(resp.httpResponse.body || ""),
    }));
    req.send();
  });
}
`

// jsSend signs and sends cases with the JavaScript SDK sdk ("v3" or "v2").
func jsSend(t *testing.T, sdk, module string, body string, cases []signerCase) []botoResult {
	t.Helper()
	dir := nodeModules(t, module)
	vs := newVerifyServer(t)
	return runSigner(t, vs, "node", "sign.js", jsSignScript, []string{sdk},
		[]string{"NODE_PATH=" + dir, "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1", "NODE_NO_WARNINGS=1"}, body, cases)
}

// latin1Values are header values Node's HTTP sends in Latin-1, one byte a
// character, while the JavaScript SDKs sign them in UTF-8.
var latin1Values = []struct{ name, value string }{
	{"e acute", "caf\u00e9"},
	{"no-break space inside", "order\u00a042"},
	{"pound and section sign", "\u00a35 \u00a7 2"},
}

// A header value the JavaScript SDK v3 signs and sends is accepted,
// whatever Node's HTTP made of its characters; changed after signing,
// refused.
func TestVerifyJSv3Signed(t *testing.T) {
	cases := headerCases(latin1Values)
	checkSigned(t, "JS SDK v3", cases, jsSend(t, "v3", "@aws-sdk/client-swf", `{"registrationStatus":"REGISTERED"}`, cases))
}

// The same for aws-sdk 2.0.31, the JavaScript SDK v2 the aws-swf
// framework runs on.
func TestVerifyJSv2Signed(t *testing.T) {
	cases := headerCases(latin1Values)
	checkSigned(t, "JS SDK v2", cases, jsSend(t, "v2", "aws-sdk", `{"registrationStatus":"REGISTERED"}`, cases))
}
