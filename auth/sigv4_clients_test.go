package auth

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go/aws/credentials"
	v1signer "github.com/aws/aws-sdk-go/aws/signer/v4"
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
// ListDomains call, the header and the query (decoded, as the request's
// parameters: the client leaves out a query of its endpoint) added before
// it signs, sent by
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
    const endpoint = "http://" + c.host + ":" + c.port + "/";
    results.push(sdk === "v3" ? await v3(c, r, endpoint) : await v2(c, r, endpoint + (r.query ? "?" + r.query : "")));
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
    if (r.query) {
      const q = {};
      for (const [k, v] of new URLSearchParams(r.query)) q[k] = k in q ? [].concat(q[k], v) : v;
      args.request.query = q;
    }
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

// nodeSpacedValues are values with white space that Node's HTTP sends
// (it refuses a character above U+00FF, and a control character but the
// tab), which the JavaScript SDKs fold in their own ways: v3 folds runs of
// tabs and spaces only, v2 every run of JavaScript's white space, which
// takes in U+FEFF but not U+0085.
var nodeSpacedValues = []struct{ name, value string }{
	{"tab inside", "order\t42"},
	{"tabs and spaces", "order \t 42\t\tshipped"},
	{"runs of spaces", "  order   42  "},
	{"tab at the ends", "\torder 42\t"},
	{"no-break spaces at the ends", "\u00a0order 42\u00a0"},
	{"space and no-break space", "order \u00a0 42"},
	{"tab and no-break space", "order\t\u00a042"},
	{"next line", "order\u0085 42"},
	{"next line and no-break space", "order\u0085\u00a042"},
	{"next line first, no-break space inside", "\u0085order\u00a042"},
}

// A header value the JavaScript SDK v3 signs and sends is accepted,
// whatever Node's HTTP made of its characters and however the SDK folded
// its white space; changed after signing, refused.
func TestVerifyJSv3Signed(t *testing.T) {
	cases := headerCases(append(latin1Values, nodeSpacedValues...))
	checkSigned(t, "JS SDK v3", cases, jsSend(t, "v3", "@aws-sdk/client-swf", `{"registrationStatus":"REGISTERED"}`, cases))
}

// The same for aws-sdk 2.0.31, the JavaScript SDK v2 the aws-swf
// framework runs on.
func TestVerifyJSv2Signed(t *testing.T) {
	cases := headerCases(append(latin1Values, nodeSpacedValues...))
	checkSigned(t, "JS SDK v2", cases, jsSend(t, "v2", "aws-sdk", `{"registrationStatus":"REGISTERED"}`, cases))
}

// rubySignScript signs each request with aws-sdk v1 for Ruby's SigV4
// signer (the one its SWF client signs with) and sends it with the SDK's
// own Net::HTTP handler.
const rubySignScript = `
require 'aws-sdk-v1'
require 'json'
c = JSON.parse($stdin.read)
creds = AWS::Core::CredentialProviders::StaticProvider.new(access_key_id: c['key'], secret_access_key: c['secret'])
signer = AWS::Core::Signers::Version4.new(creds, 'swf', 'us-east-1')
handler = AWS::Core::Http::NetHttpHandler.new
out = c['requests'].map do |r|
  req = AWS::Core::Http::Request.new
  req.host = c['host']
  req.port = c['port'].to_i
  req.use_ssl = false
  req.http_method = 'POST'
  req.uri = r['query'] ? "/?#{r['query']}" : '/'
  req.headers['content-type'] = 'application/x-amz-json-1.0'
  req.headers['x-amz-target'] = 'SimpleWorkflowService.ListDomains'
  req.headers[r['header'].downcase] = r['value'] if r['header']
  req.body = c['body']
  signer.sign_request(req)
  req.headers[r['header'].downcase] = r['after'] if r['after']
  resp = AWS::Core::Http::Response.new
  handler.handle(req, resp)
  {status: resp.status, body: resp.body.to_s.force_encoding('UTF-8')}
end
puts JSON.generate(out)
`

// rubySend signs and sends cases with aws-sdk v1 for Ruby; the test is
// skipped without ruby or the SDK.
func rubySend(t *testing.T, body string, cases []signerCase) []botoResult {
	t.Helper()
	if _, err := exec.LookPath("ruby"); err != nil {
		t.Skip("ruby not on PATH")
	}
	if err := exec.Command("ruby", "-e", `require "aws-sdk-v1"`).Run(); err != nil {
		t.Skip("aws-sdk v1 for Ruby not installed")
	}
	return runSigner(t, newVerifyServer(t), "ruby", "sign.rb", rubySignScript, nil, nil, body, cases)
}

// boto2SignScript signs each request with boto 2's SWF connection
// (Layer1, told to sign for us-east-1/swf), sending it with boto's own
// request machinery; a header to change after signing is changed as its
// authorize step returns.
const boto2SignScript = `
import json, sys
import boto.connection
from boto.regioninfo import RegionInfo
from boto.swf import layer1
c = json.load(sys.stdin)
conn = layer1.Layer1(c["key"], c["secret"], region=RegionInfo(name="us-east-1", endpoint=c["host"]),
                     port=int(c["port"]), is_secure=False)
conn.auth_region_name, conn.auth_service_name = "us-east-1", "swf"
authorize = boto.connection.HTTPRequest.authorize
after = {}
def authorize_then_change(self, connection, **kwargs):
    authorize(self, connection, **kwargs)
    self.headers.update(after)
boto.connection.HTTPRequest.authorize = authorize_then_change
out = []
for r in c["requests"]:
    headers = {"X-Amz-Target": "SimpleWorkflowService.ListDomains", "Host": c["host"],
               "Content-Type": "application/json; charset=UTF-8", "Content-Encoding": "amz-1.0",
               "Content-Length": str(len(c["body"]))}
    if r.get("header"):
        headers[r["header"]] = r["value"]
    after.clear()
    if r.get("after"):
        after[r["header"]] = r["after"]
    req = conn.build_base_http_request("POST", "/" + ("?" + r["query"] if r.get("query") else ""), "/", {}, headers, c["body"], None)
    resp = conn._mexe(req, sender=None, override_num_retries=0)
    out.append({"status": resp.status, "body": resp.read().decode("utf-8")})
print(json.dumps(out))
`

// boto2Path is where clients/run-all.sh unpacks Debian's python3-boto
// (boto 2.49); the test is skipped without it.
func boto2Path(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("SWFD_CLIENTS_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			t.Skip("no cache directory for boto 2")
		}
		cache = filepath.Join(dir, "swfd-clients")
	}
	p := filepath.Join(cache, "boto2", "usr", "lib", "python3", "dist-packages")
	if _, err := os.Stat(filepath.Join(p, "boto", "swf", "layer1.py")); err != nil {
		t.Skipf("boto 2 not unpacked in %s (clients/run-all.sh boto2)", p)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not on PATH")
	}
	return p
}

// boto2Send signs and sends cases with boto 2.
func boto2Send(t *testing.T, body string, cases []signerCase) []botoResult {
	t.Helper()
	p := boto2Path(t)
	return runSigner(t, newVerifyServer(t), "python3", "sign.py", boto2SignScript, nil, []string{"PYTHONPATH=" + p}, body, cases)
}

// A header value aws-sdk v1 for Ruby signs, folding runs of ASCII white
// space only (a no-break or ideographic space stays, at the ends too), is
// accepted; changed after signing, refused.
func TestVerifyRubySigned(t *testing.T) {
	cases := headerCases(append(spacedValues[:len(spacedValues):len(spacedValues)],
		struct{ name, value string }{"tab and no-break space", "order\t\u00a042"},
		struct{ name, value string }{"ideographic spaces at the ends", "\u3000order\u3000"},
		struct{ name, value string }{"e acute", "caf\u00e9"}))
	checkSigned(t, "Ruby aws-sdk v1", cases, rubySend(t, `{"registrationStatus":"REGISTERED"}`, cases))
}

// A header value boto 2 signs is accepted: folded as botocore folds it,
// or, when it holds a double quote, only trimmed at the ends; changed
// after signing, refused. boto 2 signs the host and the x-amz-* headers
// only, so only an x-amz-meta- header is tried.
func TestVerifyBoto2Signed(t *testing.T) {
	cases := amzOnly(headerCases(append(spacedValues[:len(spacedValues):len(spacedValues)],
		struct{ name, value string }{"quoted, runs of spaces", `say "a  b"`},
		struct{ name, value string }{"quoted, tabs", "say \"a\t\tb\"\t "},
		struct{ name, value string }{"quoted, no-break spaces at the ends", "\u00a0\"a  b\"\u00a0"},
		struct{ name, value string }{"e acute", "caf\u00e9"})))
	checkSigned(t, "boto 2", cases, boto2Send(t, `{"registrationStatus":"REGISTERED"}`, cases))
}

// amzOnly is the cases of cases whose header is an x-amz-* header.
func amzOnly(cases []signerCase) []signerCase {
	var out []signerCase
	for _, c := range cases {
		if strings.HasPrefix(strings.ToLower(c.Header), "x-amz-") {
			out = append(out, c)
		}
	}
	return out
}

// Each fold gives the canonical value its client signs; run everywhere,
// without the clients.
func TestHeaderFolds(t *testing.T) {
	for _, c := range []struct {
		fold             func(string) string
		name, in, signed string
	}{
		{foldPython, "botocore", "\u00a0order \t\u00a042\u0085", "order 42"},
		{foldGoSDK, "aws-sdk-go", "\u00a0order  \t\u00a042\u0085", "order \t\u00a042"},
		{foldASCII, "Ruby aws-sdk v1, JS SDK v3", "\u00a0order \t\u00a042\u0085", "\u00a0order \u00a042\u0085"},
		{foldJS, "JS SDK v2", "\u0085order\u00a0\t42\ufeff", "\u0085order 42"},
		{foldBoto2, "boto 2, quoted", "\u00a0say \"a  \tb\"\u3000", "say \"a  \tb\""},
		{foldBoto2, "boto 2, unquoted", "\u00a0say a  \tb\u3000", "say a b"},
	} {
		if got := c.fold(c.in); got != c.signed {
			t.Errorf("%s: %q folded to %q, signed as %q", c.name, c.in, got, c.signed)
		}
	}
	if got := fromLatin1("caf\xe9\xa0"); got != "caf\u00e9\u00a0" {
		t.Errorf("fromLatin1: %q", got)
	}
}

// signerQueries are query strings a client may be given (SWF's clients
// send none, but one may be added to the endpoint): '+', %20, reserved
// characters as written and escaped, names whose order differs encoded
// ("x%3Ay" before "x-y") and decoded ("x-y" before "x:y"), a name given
// twice.
var signerQueries = []string{
	"a=x+y", "a=x%20y", "b=2&a=x%20y&c=d/e", "a=b:c@d,e", "z=1&a=!$'()*", "a=2&a=1",
	"x-y=1&x:y=2", "a0=1&a:=2", "a=x:1&a=x-1",
}

// queryCases are cases for each of signerQueries.
func queryCases() []signerCase {
	var cs []signerCase
	for _, q := range signerQueries {
		cs = append(cs, signerCase{what: "query", Query: q})
	}
	return cs
}

// A request aws-sdk-go v1's signer signed is accepted, its header values
// and its query, which the signer sends as it signed it: decoded and
// encoded again, its names and each name's values sorted as decoded.
func TestVerifyGoV1Signed(t *testing.T) {
	vs := newVerifyServer(t)
	body := `{"registrationStatus":"REGISTERED"}`
	signer := v1signer.NewSigner(credentials.NewStaticCredentials(testKey, testSecret, ""))
	for _, c := range append(headerCases(spacedValues), queryCases()...) {
		req := vs.newRequest(t, body)
		req.URL.RawQuery = c.Query
		if c.Header != "" {
			req.Header.Set(c.Header, c.Value)
		}
		if _, err := signer.Sign(req, strings.NewReader(body), "swf", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		if c.After != "" {
			req.Header.Set(c.Header, c.After)
		}
		req.Body, req.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		st, out := vs.do(t, req)
		checkSigned(t, "aws-sdk-go v1", []signerCase{c}, []botoResult{{Status: st, Body: out}})
	}
}

// The query strings of an endpoint the JavaScript SDK v2 is given, which
// it signs decoded and encoded again, the names sorted as decoded, but
// sends as written, and those the JavaScript SDK v3 signs and sends.
func TestVerifyJSSignedQueries(t *testing.T) {
	body := `{"registrationStatus":"REGISTERED"}`
	cases := queryCases()
	checkSigned(t, "JS SDK v2", cases, jsSend(t, "v2", "aws-sdk", body, cases))
	checkSigned(t, "JS SDK v3", cases, jsSend(t, "v3", "@aws-sdk/client-swf", body, cases))
}

// The query strings aws-sdk v1 for Ruby's signer signs as they are
// written, in the order written.
func TestVerifyRubySignedQueries(t *testing.T) {
	cases := queryCases()
	checkSigned(t, "Ruby aws-sdk v1", cases, rubySend(t, `{"registrationStatus":"REGISTERED"}`, cases))
}
