package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/lograte"
)

// Authentication fault codes, as AWS JSON-protocol services answer them.
const (
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
	IncompleteSignature        = "IncompleteSignatureException"
	InvalidSignature           = "InvalidSignatureException"
	UnrecognizedClient         = "UnrecognizedClientException"
)

// FaultHTTPStatus returns the HTTP status an authentication fault is
// answered with, and whether code is one. A request with no credentials at
// all is 403 (the status AWS's common-errors table gives
// MissingAuthenticationToken); every other authentication failure is 400,
// as AWS JSON services answer them.
func FaultHTTPStatus(code string) (int, bool) {
	switch code {
	case MissingAuthenticationToken:
		return http.StatusForbidden, true
	case IncompleteSignature, InvalidSignature, UnrecognizedClient:
		return http.StatusBadRequest, true
	}
	return 0, false
}

// FaultWireType is the __type an authentication fault is answered with:
// these faults come from the AWS request framework, not from SWF's model.
func FaultWireType(code string) string { return "com.amazon.coral.service#" + code }

// MaxSkew is how far a request's time may be from the server's: five
// minutes either way, as AWS allows (a signed request is a credential for
// as long as it is accepted, so the window is kept short).
const MaxSkew = 5 * time.Minute

const (
	algorithm    = "AWS4-HMAC-SHA256"
	terminator   = "aws4_request"
	amzDateFmt   = "20060102T150405Z"
	scopeDateFmt = "20060102"
)

// Verifier checks AWS Signature Version 4 on requests and says who signed
// them.
type Verifier struct {
	Keys    *Keyring
	Region  string           // the region a credential scope must name
	Service string           // the service a scope must name; default "swf"
	Now     func() time.Time // default time.Now
	Log     *slog.Logger
	// Warn, if set, writes a warning for each refused request, bounded
	// so that a storm of bad requests cannot flood the log. The
	// canonical request a failed signature was checked against goes to
	// Log at debug level.
	Warn *lograte.Limiter
}

// Verify authenticates r, whose body (as sent, before any decompression)
// is body. It returns the principal that signed it or the fault to answer.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Principal, *api.Fault) {
	p, keyID, reason, f := v.verify(r, body)
	if f != nil {
		v.Warn.Log(r.Context(), slog.LevelWarn, "request not authenticated", "code", f.Code, "message", f.Message, "access_key_id", keyID, "remote_addr", r.RemoteAddr)
		v.log().Debug("request not authenticated", "code", f.Code, "message", f.Message, "access_key_id", keyID, "detail", reason)
		return nil, f
	}
	return p, nil
}

func (v *Verifier) log() *slog.Logger {
	if v.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return v.Log
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func incomplete(format string, args ...any) *api.Fault {
	return api.NewFault(IncompleteSignature, format, args...)
}

func invalid(format string, args ...any) *api.Fault {
	return api.NewFault(InvalidSignature, format, args...)
}

// sigv4Auth is a parsed Authorization header.
type sigv4Auth struct {
	keyID, date, region, service, term string
	scope                              string
	signedHeaders                      []string
	signature                          string
}

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…".
func parseAuthorization(h string) (sigv4Auth, *api.Fault) {
	var a sigv4Auth
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return a, incomplete("Unsupported authorization algorithm %q: sign requests with AWS Signature Version 4 (AWS4-HMAC-SHA256).", alg)
	}
	params := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return a, incomplete("'%s' is not a key=value pair (no equal sign) in the Authorization header.", kv)
		}
		k = strings.TrimSpace(k)
		switch k {
		case "Credential", "Signature", "SignedHeaders":
		default:
			return a, incomplete("'%s' is not a parameter of the Authorization header: it takes Credential, SignedHeaders and Signature.", k)
		}
		if _, dup := params[k]; dup {
			return a, incomplete("The Authorization header names the '%s' parameter more than once.", k)
		}
		params[k] = strings.TrimSpace(val)
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, "The Authorization header requires the '"+k+"' parameter.")
		}
	}
	if len(missing) > 0 {
		return a, incomplete("%s", strings.Join(missing, " "))
	}
	cred := strings.Split(params["Credential"], "/")
	if len(cred) != 5 || cred[0] == "" {
		return a, incomplete("The Credential must have the form <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request.")
	}
	a.keyID, a.date, a.region, a.service, a.term = cred[0], cred[1], cred[2], cred[3], cred[4]
	a.scope = strings.Join(cred[1:], "/")
	a.signedHeaders = strings.Split(params["SignedHeaders"], ";")
	a.signature = strings.ToLower(params["Signature"])
	return a, nil
}

// requestTime returns the request's signing time: X-Amz-Date, else Date.
func requestTime(r *http.Request) (time.Time, string, *api.Fault) {
	if s := r.Header.Get("X-Amz-Date"); s != "" {
		t, err := time.Parse(amzDateFmt, s)
		if err != nil {
			return time.Time{}, "", incomplete("X-Amz-Date %q is not an ISO 8601 basic date-time such as 20150830T123600Z.", s)
		}
		return t, "x-amz-date", nil
	}
	if s := r.Header.Get("Date"); s != "" {
		t, err := http.ParseTime(s)
		if err != nil {
			return time.Time{}, "", incomplete("Date %q is not an HTTP date.", s)
		}
		return t.UTC(), "date", nil
	}
	return time.Time{}, "", incomplete("A signed request needs an 'X-Amz-Date' or a 'Date' header.")
}

func (v *Verifier) verify(r *http.Request, body []byte) (p *Principal, keyID, reason string, f *api.Fault) {
	hs := r.Header.Values("Authorization")
	if len(hs) == 0 || strings.TrimSpace(hs[0]) == "" {
		return nil, "", "", api.NewFault(MissingAuthenticationToken, "Request is missing Authentication Token")
	}
	if len(hs) > 1 {
		return nil, "", "", incomplete("The request has more than one Authorization header.")
	}
	a, f := parseAuthorization(hs[0])
	if f != nil {
		return nil, "", "", f
	}
	t, dateHeader, f := requestTime(r)
	if f != nil {
		return nil, a.keyID, "", f
	}
	if carriesSessionToken(r) {
		return nil, a.keyID, "session token given; swfd issues no temporary credentials", api.NewFault(UnrecognizedClient, "The security token included in the request is invalid.")
	}
	p, secret, ok := v.Keys.Config().lookup(a.keyID)
	if !ok {
		return nil, a.keyID, "unknown access key", api.NewFault(UnrecognizedClient, "The security token included in the request is invalid.")
	}
	amzDate := t.Format(amzDateFmt)
	if a.date != amzDate[:8] {
		return nil, a.keyID, "", invalid("The date in the credential scope, '%s', is not the date of the request, '%s' (from %s).", a.date, amzDate[:8], amzDate)
	}
	if a.term != terminator {
		return nil, a.keyID, "", invalid("The credential scope must end in '%s', not '%s'.", terminator, a.term)
	}
	if !v.scopeOK(a) {
		return nil, a.keyID, "", invalid("The credential should be scoped to region '%s' and service '%s', not '%s/%s'.", v.Region, v.service(), a.region, a.service)
	}
	now := v.now().UTC()
	switch {
	case t.Before(now.Add(-MaxSkew)):
		return nil, a.keyID, "", invalid("Signature expired: %s is now earlier than %s (%s - %d min.)",
			amzDate, now.Add(-MaxSkew).Format(amzDateFmt), now.Format(amzDateFmt), int(MaxSkew/time.Minute))
	case t.After(now.Add(MaxSkew)):
		return nil, a.keyID, "", invalid("Signature not yet current: %s is still later than %s (%s + %d min.)",
			amzDate, now.Add(MaxSkew).Format(amzDateFmt), now.Format(amzDateFmt), int(MaxSkew/time.Minute))
	}
	if f := checkSignedHeaders(r.Header, r.ProtoMajor >= 2, a.signedHeaders, dateHeader); f != nil {
		return nil, a.keyID, "", f
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && !strings.EqualFold(h, payloadHash) {
		if !isHexSHA256(h) {
			// UNSIGNED-PAYLOAD, STREAMING-…: S3's ways of leaving the
			// body out of the signature. The body of an SWF call is its
			// input, which the signature must cover.
			if len(h) > 64 {
				h = strings.ToValidUTF8(h[:64], "") + "…"
			}
			return nil, a.keyID, "", invalid("The 'x-amz-content-sha256' header is '%s', not the SHA-256 of the request body in hex: the body of an SWF request must be signed (an unsigned or streamed payload is not accepted).", h)
		}
		return nil, a.keyID, "", invalid("The 'x-amz-content-sha256' header does not match the hash of the request body.")
	}
	key := signingKey(secret, a.date, a.region, a.service)
	want, err := hex.DecodeString(a.signature)
	if err != nil || len(want) != sha256.Size {
		return nil, a.keyID, "", invalid("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	var first string
	queries := queryCandidates(r.URL.RawQuery)
	paths := pathCandidates(r)
	for _, host := range hostCandidates(r) {
		for hdrs := range headerCandidates(r, host, a.signedHeaders) {
			for _, path := range paths {
				for _, query := range queries {
					creq := assembleCanonical(r.Method, path, query, hdrs, a.signedHeaders, payloadHash)
					sts := algorithm + "\n" + amzDate + "\n" + a.scope + "\n" + hexSHA256(creq)
					if hmac.Equal(hmacSHA256(key, sts), want) {
						cp := *p
						cp.AccessKeyID = a.keyID
						cp.UserAgent = r.UserAgent()
						return &cp, a.keyID, "", nil
					}
					if first == "" {
						// For the log: the same request with the
						// credentials a header or the query carries
						// (a session token) shown as xxxxx; the string
						// to sign has the real one's hash.
						first = "canonical request (credentials shown as " + redacted + "):\n" +
							buildCanonicalRequest(r, host, path, a.signedHeaders, payloadHash, true) + "\nstring to sign:\n" + sts
					}
				}
			}
		}
	}
	return nil, a.keyID, first, invalid("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
}

// carriesSessionToken reports whether r carries a session token: a
// non-empty X-Amz-Security-Token header, or that parameter in the query.
// The keys of an auth file are long-term and swfd issues no temporary
// credentials, so no token belongs to any key; AWS refuses a token that
// does not go with the access key (UnrecognizedClientException) rather
// than ignoring it, and so does swfd, whatever the signature. An empty
// header carries no token and is taken as absent.
func carriesSessionToken(r *http.Request) bool {
	for _, v := range r.Header.Values("X-Amz-Security-Token") {
		if v != "" {
			return true
		}
	}
	for k := range r.URL.Query() {
		if strings.EqualFold(k, "X-Amz-Security-Token") {
			return true
		}
	}
	return false
}

// isHexSHA256 reports whether s has the form of a SHA-256 in hex.
func isHexSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return "swf"
	}
	return v.Service
}

// scopeOK requires the scope to name the server's region and service.
// boto 2 derives both from the host name when it is not told them (for
// 127.0.0.1 it signs with region "0", service "127"); it is configured
// with auth_region_name and auth_service_name instead, as for real SWF.
func (v *Verifier) scopeOK(a sigv4Auth) bool {
	return a.service == v.service() && (v.Region == "" || a.region == v.Region)
}

// checkSignedHeaders requires a sorted, lower-case list that covers host,
// the date header and every x-amz-* header the request carries: an
// unsigned X-Amz-Target would let anyone who saw one signed request
// replay it as any other operation. Over HTTP/2 the host may be signed as
// the ":authority" pseudo-header instead (the JavaScript SDK's HTTP/2
// handler signs it so, without a host header).
func checkSignedHeaders(h http.Header, http2 bool, list []string, dateHeader string) *api.Fault {
	host, date := false, false
	for i, name := range list {
		if name == "" || name != strings.ToLower(name) {
			return invalid("SignedHeaders must be lower-case header names separated by ';'.")
		}
		if i > 0 && list[i-1] >= name {
			return invalid("SignedHeaders must be sorted and name each header once.")
		}
		switch name {
		case "host":
			host = true
		case authorityHeader:
			host = host || http2
		case dateHeader:
			date = true
		}
	}
	if !host {
		return invalid("'Host' must be a signed header.")
	}
	if !date {
		return invalid("'%s' must be a signed header.", dateHeader)
	}
	var unsigned []string
	for name := range h {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-amz-") {
			if _, ok := slices.BinarySearch(list, l); !ok {
				unsigned = append(unsigned, l)
			}
		}
	}
	if len(unsigned) > 0 {
		sort.Strings(unsigned)
		return incomplete("Every x-amz-* header must be signed: add %s to SignedHeaders.", strings.Join(unsigned, ", "))
	}
	return nil
}

// hostCandidates are the Host values the client may have signed: the
// header as received and, when it has no port, with the port the request
// came in on (boto 2 sends "Host: 127.0.0.1" but signs "127.0.0.1:PORT").
// An IPv6 literal keeps its one pair of brackets: "[::1]" becomes
// "[::1]:PORT".
func hostCandidates(r *http.Request) []string {
	out := []string{r.Host}
	if _, _, err := net.SplitHostPort(r.Host); err != nil {
		if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if _, port, err := net.SplitHostPort(la.String()); err == nil {
				host := r.Host
				if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
					host = host[1 : len(host)-1]
				}
				out = append(out, net.JoinHostPort(host, port))
			}
		}
	}
	return out
}

// pathCandidates are the canonical URIs the client may have used: every
// SDK but S3 escapes the (already escaped) path once more; some clients
// do not.
func pathCandidates(r *http.Request) []string {
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	double := escapePath(p)
	if double == p {
		return []string{p}
	}
	return []string{double, p}
}

func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

func escapeQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

// queryCandidates are the canonical query strings the client may have
// signed for the query raw, as received, each once.
//
// The first is the query decoded ('+' as a space) and every name and
// value encoded again (all but A-Z a-z 0-9 - _ . ~ as %XX, a space as
// %20), the pairs sorted as encoded: what aws-sdk-go-v2 and the JavaScript
// SDK v3 sign, and then send, so their queries always match it. botocore
// signs a query it is given in the URL as it is written, neither decoding
// nor encoding it, only sorting its pairs (a '+', a '/' or ':' not
// escaped stay so). The JavaScript SDK v2 decodes and encodes a query of
// its endpoint again, but sorts the names as decoded ("x-y" before "x:y",
// where encoded "x%3Ay" comes first), and sends it as written.
// aws-sdk-go v1 sorts names and values as decoded too, and sends what it
// signed; aws-sdk v1 for Ruby signs the query as written, unsorted: for
// both, the query as received. Whichever the form, the signature covers
// every name and value as sent.
func queryCandidates(raw string) []string {
	if raw == "" {
		return []string{""}
	}
	out := []string{canonicalQuery(raw)}
	for _, q := range []string{sortedQuery(raw), decodedOrderQuery(raw), raw} {
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out
}

// queryPair is a pair of a query: its name decoded, and its name and
// value decoded and encoded again.
type queryPair struct{ name, k, v string }

// decodedPairs are the pairs of the query raw, decoded ('+' as a space; a
// name or value that does not decode is taken as written) and encoded
// again.
func decodedPairs(raw string) []queryPair {
	var pairs []queryPair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		pairs = append(pairs, queryPair{k, escapeQuery(k), escapeQuery(v)})
	}
	return pairs
}

// joinPairs is pairs written name=value, joined with '&'.
func joinPairs(pairs []queryPair) string {
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// canonicalQuery is the query raw decoded and encoded again, its pairs
// sorted by name, then value, as encoded.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	pairs := decodedPairs(raw)
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	return joinPairs(pairs)
}

// decodedOrderQuery is the query raw decoded and encoded again, its pairs
// sorted by name as decoded, then by value as encoded: the JavaScript SDK
// v2's canonical form of its endpoint's query.
func decodedOrderQuery(raw string) string {
	pairs := decodedPairs(raw)
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].name != pairs[j].name {
			return pairs[i].name < pairs[j].name
		}
		return pairs[i].v < pairs[j].v
	})
	return joinPairs(pairs)
}

// sortedQuery is the query raw as written, its pairs sorted by name, then
// value, each written name=value (a pair without '=' gets one, as does an
// empty pair between two '&'): botocore's canonical form of a query it
// was given in a URL.
func sortedQuery(raw string) string {
	type kv struct{ k, v string }
	parts := strings.Split(raw, "&")
	pairs := make([]kv, len(parts))
	for i, part := range parts {
		pairs[i].k, pairs[i].v, _ = strings.Cut(part, "=")
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// redactQuery is the canonical query q with the values of
// credentialParams written as redacted, for the log.
func redactQuery(q string) string {
	if q == "" {
		return q
	}
	pairs := strings.Split(q, "&")
	for i, p := range pairs {
		if k, _, _ := strings.Cut(p, "="); credentialParams[strings.ToLower(k)] {
			pairs[i] = k + "=" + redacted
		}
	}
	return strings.Join(pairs, "&")
}

// authorityHeader is HTTP/2's pseudo-header for the host, which a client
// may sign in the host header's place.
const authorityHeader = ":authority"

// headerFolds are the ways clients fold the white space of a signed
// header's value, tried in turn (see headerCandidates). A client signs a
// value folded in its own way without saying which, so each is accepted;
// a value any of them accepts differs from the one signed in its white
// space alone.
//
//   - botocore (the AWS CLI, boto3) splits the value at every run of white
//     space, as Python's str.split does (tabs, no-break and other Unicode
//     spaces, and the separators U+001C to U+001F), and joins the pieces
//     with one space (foldPython).
//   - aws-sdk-go-v2, and aws-sdk-go v1 alike, trim every white space at the
//     two ends, as strings.TrimSpace does, but fold only runs of ASCII
//     spaces inside: a tab, a no-break space or an em space inside stays
//     as it is (foldGoSDK).
//   - aws-sdk v1 for Ruby and the JavaScript SDK v3 fold runs of ASCII
//     white space only, tabs included, and trim it at the ends: a no-break
//     or ideographic space stays, at the ends too (foldASCII).
//   - The JavaScript SDK v2 folds every run of JavaScript's white space,
//     which is Go's without U+0085 and with U+FEFF (foldJS).
//   - boto 2 folds as botocore does, but only trims the ends of a value
//     that holds a double quote (foldBoto2).
var headerFolds = []func(string) string{foldPython, foldGoSDK, foldASCII, foldJS, foldBoto2}

// foldPython is botocore's canonical header value.
func foldPython(v string) string {
	return strings.Join(strings.FieldsFunc(v, isPythonSpace), " ")
}

// isPythonSpace reports whether Python's str.isspace holds for r: Go's
// unicode.IsSpace, and the four information separators.
func isPythonSpace(r rune) bool {
	return unicode.IsSpace(r) || 0x1c <= r && r <= 0x1f
}

// foldASCII is the canonical header value of aws-sdk v1 for Ruby (its
// /\s+/ is ASCII's white space) and of the JavaScript SDK v3, which folds
// runs of tabs and spaces (a line break made a space first) and trims one
// space from each end. The two differ only for a vertical tab or form
// feed, which no header a Go server accepts carries.
func foldASCII(v string) string {
	return strings.Join(strings.FieldsFunc(v, isASCIISpace), " ")
}

func isASCIISpace(r rune) bool {
	return r == ' ' || '\t' <= r && r <= '\r'
}

// foldJS is the canonical header value of the JavaScript SDK v2, which
// folds every run of /\s/ to one space and trims the ends.
func foldJS(v string) string {
	return strings.Join(strings.FieldsFunc(v, isJSSpace), " ")
}

// isJSSpace reports whether r is white space to JavaScript's regular
// expressions: Unicode's white space and U+FEFF, but not U+0085.
func isJSSpace(r rune) bool {
	return r == '\ufeff' || r != '\u0085' && unicode.IsSpace(r)
}

// foldBoto2 is boto 2's canonical header value: a value with a double
// quote is only trimmed at the ends (of Python's white space), any other
// is folded as botocore folds it.
func foldBoto2(v string) string {
	if strings.Contains(v, `"`) {
		return strings.TrimFunc(v, isPythonSpace)
	}
	return foldPython(v)
}

// foldGoSDK is aws-sdk-go-v2's canonical header value: trimmed of white
// space at both ends, each run of spaces (U+0020) inside folded to one.
func foldGoSDK(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// headerValues are the values of the signed header name, as received.
func headerValues(r *http.Request, host, name string) []string {
	switch name {
	case "host", authorityHeader:
		// Go's server takes an HTTP/2 request's :authority as its Host,
		// and keeps pseudo-headers out of r.Header.
		return []string{host}
	case "content-length":
		vals := r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		return vals
	case "transfer-encoding":
		vals := r.Header.Values("Transfer-Encoding")
		if len(vals) == 0 {
			vals = r.TransferEncoding
		}
		return vals
	}
	return r.Header.Values(name)
}

// canonicalHeaders is the canonical headers block of r (one "name:value"
// line per signed header, then an empty line): each header's values
// folded with fold, joined with ','. With redact, the values of
// credentialHeaders are written as redacted (the block is then for the
// log, not for signing).
func canonicalHeaders(r *http.Request, host string, signed []string, fold func(string) string, redact bool) string {
	var b strings.Builder
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		vals := headerValues(r, host, h)
		if redact && credentialHeaders[h] && len(vals) > 0 {
			b.WriteString(redacted)
		} else {
			for i, v := range vals {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(fold(v))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// headerCandidates yields the canonical headers blocks of r, one for each
// of headerFolds that gives a block of its own (for most requests, all
// give the same one, checked once), and when a signed header's value holds
// a byte above 0x7F, the same again with the values read as Latin-1 (see
// fromLatin1). A block is built only when the one before did not match:
// a request signed in botocore's way, as most are, costs one.
func headerCandidates(r *http.Request, host string, signed []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		var seen []string
		try := func(fold func(string) string) bool {
			block := canonicalHeaders(r, host, signed, fold, false)
			if slices.Contains(seen, block) {
				return true
			}
			seen = append(seen, block)
			return yield(block)
		}
		for _, fold := range headerFolds {
			if !try(fold) {
				return
			}
		}
		if !signedValuesBeyondASCII(r, host, signed) {
			return
		}
		for _, fold := range headerFolds {
			if !try(func(v string) string { return fold(fromLatin1(v)) }) {
				return
			}
		}
	}
}

// signedValuesBeyondASCII reports whether a value of a signed header of r
// holds a byte above 0x7F.
func signedValuesBeyondASCII(r *http.Request, host string, signed []string) bool {
	for _, h := range signed {
		for _, v := range headerValues(r, host, h) {
			for i := 0; i < len(v); i++ {
				if v[i] >= utf8.RuneSelf {
					return true
				}
			}
		}
	}
	return false
}

// fromLatin1 is v read as Latin-1 (ISO 8859-1: each byte the character
// U+0000 to U+00FF of its value), in UTF-8.
//
// A client signs the characters of a header's value in UTF-8, but the
// bytes it sends them as are its HTTP library's choice. Go's, botocore's
// and Ruby's send UTF-8, the value as signed. Node's HTTP module, which
// the JavaScript SDKs (v2 and v3) send with, writes a header's string one
// byte a character, as Latin-1: "café", signed as 63 61 66 C3 A9, goes
// out as 63 61 66 E9, and a no-break space as A0 (a character above U+00FF
// it refuses to send at all). How the real service reads such bytes is
// not known; they are read both ways, so that a value the JavaScript SDKs
// sign is accepted as the SDK sent it. Either way the value accepted is
// the one signed, character for character.
func fromLatin1(v string) string {
	i := 0
	for i < len(v) && v[i] < utf8.RuneSelf {
		i++
	}
	if i == len(v) {
		return v
	}
	var b strings.Builder
	b.Grow(2 * len(v))
	b.WriteString(v[:i])
	for ; i < len(v); i++ {
		b.WriteRune(rune(v[i]))
	}
	return b.String()
}

// redacted stands for a credential's value in a canonical request written
// to the log.
const redacted = "xxxxx"

// credentialHeaders are the headers whose values are credentials, shown as
// redacted when a canonical request is logged.
var credentialHeaders = map[string]bool{"authorization": true, "proxy-authorization": true, "x-amz-security-token": true, "cookie": true}

// credentialParams are the query parameters whose values are credentials
// (a presigned request's), shown as redacted when a canonical request is
// logged.
var credentialParams = map[string]bool{"x-amz-security-token": true, "x-amz-signature": true}

// assembleCanonical is the canonical request of a request with method,
// the canonical URI path, the canonical query string query, the canonical
// headers block headers (see canonicalHeaders) and signed headers signed.
func assembleCanonical(method, path, query, headers string, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	b.WriteString(headers)
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func canonicalRequest(r *http.Request, host, path string, signed []string, payloadHash string) string {
	return buildCanonicalRequest(r, host, path, signed, payloadHash, false)
}

// buildCanonicalRequest is the first canonical request of r the verifier
// tries (the first of queryCandidates and headerFolds); with redact, the
// values of credentialHeaders and credentialParams are written as
// redacted (the request is then for the log, not for signing).
func buildCanonicalRequest(r *http.Request, host, path string, signed []string, payloadHash string, redact bool) string {
	q := canonicalQuery(r.URL.RawQuery)
	if redact {
		q = redactQuery(q)
	}
	return assembleCanonical(r.Method, path, q, canonicalHeaders(r, host, signed, headerFolds[0], redact), signed, payloadHash)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func signingKey(secret Secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+string(secret)), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}
