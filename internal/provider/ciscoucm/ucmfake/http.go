// Package ucmfake holds contract fakes of Cisco Unified CM for tests of
// the cisco-ucm adapter and end-to-end tests of the binary: an HTTP server
// for the refresh-token revoke API (Server) and an in-process SSH server
// that behaves like the platform CLI (CLI). Both record what reached them
// and every contract violation (Errors). The HTTP fake is a fakekit route
// table: a request outside its contract fails the test and is answered
// with 418.
//
// The revoke answer follows the documented shape
// {"revoked_tokens":{"status":"success","user_id","clientID_tokens":[
// {"client_id","refresh_token"}]}}. How the UCM answers an unknown user or
// a failure is not documented; the fake offers a JSON 404, a 200 with a
// status other than "success", and an empty success (see UnknownUser).
//
// The AXL SOAP endpoint serves getUser and getCCMVersion, built from the
// AXL schema (AXLAPI.wsdl and AXLSoap.xsd, 12.5 to 15, in Cisco DevNet's
// axl-python-zeep-samples): POST /axl/ with SOAPAction
// "CUCM:DB ver=<version> <operation>", the operation element in the AXL
// namespace with unqualified children, and its response or, for an
// unknown user, the SOAP fault Unified CM sends (HTTP 500, axlcode 5007,
// "Item not valid: The specified User was not found").
package ucmfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/fakekit"
)

// Failure is an error answer a test asks for.
type Failure = fakekit.Fault

const (
	FailNone   Failure = 0
	Fail401            = fakekit.Unauthorized // Tomcat's 401 for bad AXL credentials
	Fail403            = fakekit.Forbidden    // the AXL user lacks the role
	Fail429            = fakekit.RateLimited  // with Retry-After: 1
	Fail500            = fakekit.ServerError  // JSON error
	FailHTML           = fakekit.HTMLPage     // an HTML error page, 502
	FailStatus         = fakekit.VendorFault  // 200 with status "failure" and a message quoting a refresh token
)

// UnknownUser is how the fake answers a user it does not know.
type UnknownUser int

const (
	UnknownUserStatus UnknownUser = iota // 200, status "failure", "User ... not found"
	UnknownUser404                       // 404 with a JSON body
	UnknownUserEmpty                     // 200, status "success", no tokens: only AXL tells
)

// Request is what reached the fake.
type Request struct {
	fakekit.Request
	BasicUser string
	BasicPass string
	HasBasic  bool
}

// Server is the HTTP fake. Create it with New. Its URL is
// http://127.0.0.1:port, the adapter's admin url.
type Server struct {
	fakekit.Loopback
	// User and Password are the AXL credentials it accepts.
	User, Password string
	// AXLVersion is the schema version the AXL route expects in the
	// SOAPAction header and the request's namespace (see NewForAXL).
	AXLVersion string

	t      testing.TB
	mux    *fakekit.Mux
	faults fakekit.Faults

	mu      sync.Mutex
	tokens  map[string]map[string][]string // user → client → refresh tokens
	issued  []string
	unknown UnknownUser
}

// Doc is the document the route is built from.
const Doc = "Cisco Unified CM refresh-token revoke API (GET /ssosp/token/revoke, SSO and OAuth configuration guide)"

// AXLDoc is the document the AXL route is built from.
const AXLDoc = "AXL getUser and getCCMVersion (AXLAPI.wsdl operations, AXLSoap.xsd GetUserReq/GetUserRes and GetCCMVersionReq/GetCCMVersionRes, schema 12.5 to 15)"

// Version is what getCCMVersion answers.
const Version = "14.0.1.13900(155)"

const soapNS = "http://schemas.xmlsoap.org/soap/envelope/"

func axlNS(version string) string { return "http://www.cisco.com/AXL/API/" + version }

// New starts the HTTP fake on a loopback port, with AXL schema 12.5; a
// broken contract fails t.
func New(t testing.TB) *Server { return NewForAXL(t, "12.5") }

// NewForAXL starts the HTTP fake expecting AXL requests of the schema
// version given.
func NewForAXL(t testing.TB, axlVersion string) *Server {
	s := &Server{t: t, User: "axladmin", Password: "fake-axl-password", AXLVersion: axlVersion, tokens: map[string]map[string][]string{}}
	s.faults = fakekit.Faults{Body: faultBody, JSON: writeJSON, RetryAfter: "1"}
	s.mux = fakekit.NewMux(t, fakekit.Route{
		Pattern: "GET /ssosp/token/revoke", Doc: Doc,
		// The AXL user's credentials, as HTTP Basic.
		Header: map[string]string{"Authorization": "Basic *"},
		Query:  map[string]string{"user_id": fakekit.Any}, OptionalQuery: []string{"client_id"},
		Answer: s.revoke,
	}, fakekit.Route{
		Pattern: "POST /axl/", Doc: AXLDoc,
		Header: map[string]string{
			"Authorization": "Basic *",
			// The operation follows the version; axl checks it names the
			// body's operation.
			"SOAPAction": `"CUCM:DB ver=` + s.AXLVersion + ` *`,
		},
		ContentType: fakekit.XMLContentType,
		Body:        axlSchema(s.AXLVersion),
		Answer:      s.axl,
	})
	s.Loopback = fakekit.Serve(http.HandlerFunc(s.serve))
	return s
}

// AddUser makes an end user known, with no tokens.
func (s *Server) AddUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[user] == nil {
		s.tokens[user] = map[string][]string{}
	}
}

// IssueRefreshToken gives the user a refresh token for the client and
// returns it. Tokens are opaque random strings, not JWTs, so a test can
// tell whether redaction works without the JWT pattern.
func (s *Server) IssueRefreshToken(user, client string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := make([]byte, 36)
	_, _ = rand.Read(b)
	tok := "rt." + base64.RawURLEncoding.EncodeToString(b)
	if s.tokens[user] == nil {
		s.tokens[user] = map[string][]string{}
	}
	s.tokens[user][client] = append(s.tokens[user][client], tok)
	s.issued = append(s.issued, tok)
	return tok
}

// TokenCount counts the user's live refresh tokens.
func (s *Server) TokenCount(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ts := range s.tokens[user] {
		n += len(ts)
	}
	return n
}

// IssuedTokens lists every refresh token the fake ever issued, for leak
// checks.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// SetUnknownUser chooses how unknown users are answered.
func (s *Server) SetUnknownUser(u UnknownUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unknown = u
}

// FailNext makes the next n requests answer with f.
func (s *Server) FailNext(f Failure, n int) {
	if n > 0 {
		s.faults.Inject(fakekit.Injection{Fault: f, Times: n})
	}
}

// FailAXLNext makes the next n AXL requests answer with f.
func (s *Server) FailAXLNext(f Failure, n int) {
	if n > 0 {
		s.faults.Inject(fakekit.Injection{Path: "/axl/", Fault: f, Times: n})
	}
}

// Requests returns what reached the fake.
func (s *Server) Requests() []Request {
	var out []Request
	for _, r := range s.mux.Requests() {
		user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
		out = append(out, Request{Request: r, BasicUser: user, BasicPass: pass, HasBasic: ok})
	}
	return out
}

// Errors returns every contract violation seen.
func (s *Server) Errors() []string { return s.mux.Violations() }

// serve refuses wrong AXL credentials and serves scheduled faults before
// the route table, as the UCM's Tomcat answers before the application.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if user, pass, ok := r.BasicAuth(); ok && (r.URL.Path == "/ssosp/token/revoke" || r.URL.Path == "/axl/") {
		if user != s.User || pass != s.Password {
			s.mux.Record(fakekit.Capture(r))
			s.faults.Answer(w, fakekit.Injection{Fault: Fail401})
			return
		}
		if in, ok := s.faults.Take(r); ok {
			s.mux.Record(fakekit.Capture(r))
			if in.Fault != FailStatus {
				s.faults.Answer(w, in)
				return
			}
			if r.URL.Path == "/axl/" {
				s.faults.Answer(w, in)
				return
			}
			var some []string
			for _, ts := range s.tokens[r.URL.Query().Get("user_id")] {
				some = append(some, ts...)
			}
			writeStatusFailure(w, r.URL.Query().Get("user_id"), some)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) revoke(r *http.Request, _ any) fakekit.Answer {
	q := r.URL.Query()
	uid := q.Get("user_id")
	clients, known := s.tokens[uid]
	if !known && s.unknown == UnknownUserEmpty {
		return fakekit.Answer{JSON: map[string]any{"revoked_tokens": map[string]any{"status": "success", "user_id": uid, "clientID_tokens": []any{}}}}
	}
	if !known {
		body := map[string]any{"revoked_tokens": map[string]any{"status": "failure", "user_id": uid, "message": "User " + uid + " not found"}}
		if s.unknown == UnknownUser404 {
			return fakekit.Answer{Status: http.StatusNotFound, JSON: body}
		}
		return fakekit.Answer{JSON: body}
	}
	only := q.Get("client_id")
	names := make([]string, 0, len(clients))
	for c := range clients {
		if only == "" || c == only {
			names = append(names, c)
		}
	}
	sort.Strings(names)
	list := []any{}
	for _, c := range names {
		for _, tok := range clients[c] {
			list = append(list, map[string]any{"client_id": c, "refresh_token": tok})
		}
		delete(clients, c)
	}
	return fakekit.Answer{JSON: map[string]any{"revoked_tokens": map[string]any{"status": "success", "user_id": uid, "clientID_tokens": list}}}
}

// axlSchema is a SOAP 1.1 envelope around one of the two operations the
// fake serves: GetUserReq (userid, or a uuid the adapter does not send,
// and optional returnedTags) or an empty GetCCMVersionReq.
func axlSchema(version string) *fakekit.Schema {
	str := &fakekit.Schema{Type: "string"}
	ns := "{" + axlNS(version) + "}"
	return &fakekit.Schema{Type: "object", Required: []string{"{" + soapNS + "}Envelope"}, Properties: map[string]*fakekit.Schema{
		"{" + soapNS + "}Envelope": {Type: "object", Required: []string{"{" + soapNS + "}Body"}, Properties: map[string]*fakekit.Schema{
			"{" + soapNS + "}Header": str,
			"{" + soapNS + "}Body": {Type: "object", Properties: map[string]*fakekit.Schema{
				ns + "getUser": {Type: "object", Required: []string{"userid"}, Properties: map[string]*fakekit.Schema{
					"userid": str,
					// RUser: any of the user's tags, each empty.
					"returnedTags": {Type: "object", AllowExtra: true, Properties: map[string]*fakekit.Schema{"userid": str}},
				}},
				// processNodeName is optional and not sent: the element is empty.
				ns + "getCCMVersion": {Type: "string", Enum: []string{""}},
			}},
		}},
	}}
}

// axl answers the one operation in the body, which must be the one the
// SOAPAction names.
func (s *Server) axl(r *http.Request, body any) fakekit.Answer {
	env := body.(map[string]any)["{"+soapNS+"}Envelope"].(map[string]any)
	ops := env["{"+soapNS+"}Body"].(map[string]any)
	prefix := "{" + axlNS(s.AXLVersion) + "}"
	action := strings.TrimSuffix(strings.TrimPrefix(r.Header.Get("SOAPAction"), `"CUCM:DB ver=`+s.AXLVersion+" "), `"`)
	op, ok := ops[prefix+action]
	if len(ops) != 1 || !ok {
		msg := s.mux.Violate("POST /axl/: the SOAPAction names %q but the body holds %d operation(s) (%s)", action, len(ops), AXLDoc)
		return fakekit.Answer{Status: http.StatusTeapot, Text: msg}
	}
	if action == "getCCMVersion" {
		return xmlAnswer(http.StatusOK, `<ns:getCCMVersionResponse xmlns:ns="`+axlNS(s.AXLVersion)+`"><return><componentVersion><version>`+Version+`</version></componentVersion></return></ns:getCCMVersionResponse>`)
	}
	return s.getUser(op.(map[string]any))
}

func xmlAnswer(status int, body string) fakekit.Answer {
	return fakekit.Answer{Status: status, ContentType: "text/xml; charset=utf-8",
		Text: `<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv="` + soapNS + `"><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`}
}

// getUser answers AXL getUser from the fake's end users: an unknown one
// gets the fault Unified CM sends (HTTP 500, axlcode 5007).
func (s *Server) getUser(req map[string]any) fakekit.Answer {
	asked, _ := req["userid"].(string)
	// The UCM's directory matches user ids without regard to case and
	// answers with the id as stored; the revoke API here matches exactly,
	// the harder case for a client.
	uid, known := "", false
	for stored := range s.tokens {
		if strings.EqualFold(stored, asked) {
			uid, known = stored, true
		}
	}
	if !known {
		const msg = "Item not valid: The specified User was not found"
		return xmlAnswer(http.StatusInternalServerError, `<soapenv:Fault><faultcode>soapenv:Server</faultcode>`+
			`<faultstring>`+msg+`</faultstring><detail><axlError><axlcode>5007</axlcode><axlmessage>`+msg+`</axlmessage>`+
			`<request>getUser</request></axlError></detail></soapenv:Fault>`)
	}
	var esc strings.Builder
	_ = xml.EscapeText(&esc, []byte(uid))
	return xmlAnswer(http.StatusOK, `<ns:getUserResponse xmlns:ns="`+axlNS(s.AXLVersion)+`">`+
		`<return><user uuid="{6C2F1A7E-0D4B-4C3B-9E52-3F0E5B1D2A10}"><userid>`+esc.String()+`</userid></user></return>`+
		`</ns:getUserResponse>`)
}

// faultBody answers faults as the UCM's Tomcat does, and a 502 as a proxy
// in front of it.
func faultBody(h http.Header, f Failure) any {
	switch f {
	case Fail401:
		h.Set("WWW-Authenticate", `Basic realm="Cisco Unified Communications Manager"`)
		return map[string]any{"error": "Unauthorized"}
	case Fail403:
		return map[string]any{"error": "The user does not have the Standard AXL API Access role"}
	case Fail429:
		return map[string]any{"error": "Too many requests"}
	case Fail500:
		return map[string]any{"error": "Internal Server Error"}
	}
	return fakekit.Page{ContentType: "text/html", HTML: "<html><head><title>502 Proxy Error</title></head><body>proxy error</body></html>"}
}

// writeStatusFailure answers FailStatus: a 200 whose status is not
// "success", with a message quoting one of the user's refresh tokens.
func writeStatusFailure(w http.ResponseWriter, uid string, tokens []string) {
	tok := "rt.none"
	if len(tokens) > 0 {
		tok = tokens[0]
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked_tokens": map[string]any{
		"status":  "failure",
		"user_id": uid,
		"message": "Database error while revoking token " + tok + " for " + uid,
		"clientID_tokens": []any{
			map[string]any{"client_id": "jabber", "refresh_token": tok},
		},
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) { fakekit.WriteJSON(w, status, "", v) }
