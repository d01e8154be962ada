// Package ucmfake holds contract fakes of Cisco Unified CM for tests of
// the cisco-ucm adapter and end-to-end tests of the binary: an HTTP server
// for the refresh-token revoke API (Server) and an in-process SSH server
// that behaves like the platform CLI (CLI). Both record what reached them
// and every contract violation (Errors); the HTTP fake answers unexpected
// requests with 418.
//
// The revoke answer follows the documented shape
// {"revoked_tokens":{"status":"success","user_id","clientID_tokens":[
// {"client_id","refresh_token"}]}}. How the UCM answers an unknown user or
// a failure is not documented; the fake offers a JSON 404 and a 200 with a
// status other than "success" (see UnknownUser). No AXL SOAP endpoint is
// served: the adapter does not call one.
package ucmfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Failure is an error answer a test asks for.
type Failure int

const (
	FailNone   Failure = iota
	Fail401            // Tomcat's 401 for bad AXL credentials
	Fail403            // the AXL user lacks the role
	Fail429            // with Retry-After: 1
	Fail500            // JSON error
	FailHTML           // an HTML error page, 502
	FailStatus         // 200 with status "failure" and a message quoting a refresh token
)

// UnknownUser is how the fake answers a user it does not know.
type UnknownUser int

const (
	UnknownUserStatus UnknownUser = iota // 200, status "failure", "User ... not found"
	UnknownUser404                       // 404 with a JSON body
)

// Request is what reached the fake.
type Request struct {
	Method    string
	Path      string
	Query     url.Values
	BasicUser string
	BasicPass string
	HasBasic  bool
}

// Server is the HTTP fake. Create it with New.
type Server struct {
	// URL is http://127.0.0.1:port; the adapter's admin url.
	URL string
	// User and Password are the AXL credentials it accepts.
	User, Password string

	srv      *httptest.Server
	mu       sync.Mutex
	tokens   map[string]map[string][]string // user → client → refresh tokens
	issued   []string
	unknown  UnknownUser
	fails    []queued
	requests []Request
	errors   []string
}

type queued struct {
	f Failure
	n int
}

// New starts the HTTP fake on a loopback port.
func New() *Server {
	s := &Server{User: "axladmin", Password: "fake-axl-password", tokens: map[string]map[string][]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, queued{f: f, n: n})
}

// Requests returns what reached the fake.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Errors returns every contract violation seen.
func (s *Server) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errors...)
}

func (s *Server) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.errors = append(s.errors, msg)
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusTeapot)
	_, _ = io.WriteString(w, "ucmfake: "+msg)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), BasicUser: user, BasicPass: pass, HasBasic: ok})
	if r.URL.Path != "/ssosp/token/revoke" {
		s.fail(w, "unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	if r.Method != http.MethodGet {
		s.fail(w, "revoke: method %s, want GET", r.Method)
		return
	}
	if !ok {
		s.fail(w, "revoke: no HTTP Basic credentials (Authorization %q)", strings.Fields(r.Header.Get("Authorization") + " ")[0])
		return
	}
	q := r.URL.Query()
	for k, v := range q {
		if (k != "user_id" && k != "client_id") || len(v) != 1 {
			s.fail(w, "revoke: unexpected query parameter %s=%v", k, v)
			return
		}
	}
	uid := q.Get("user_id")
	if uid == "" {
		s.fail(w, "revoke: no user_id")
		return
	}
	if user != s.User || pass != s.Password {
		writeFailure(w, Fail401, "", nil)
		return
	}
	if f := s.takeFailure(); f != FailNone {
		var some []string
		for _, ts := range s.tokens[uid] {
			some = append(some, ts...)
		}
		writeFailure(w, f, uid, some)
		return
	}
	clients, known := s.tokens[uid]
	if !known {
		body := map[string]any{"revoked_tokens": map[string]any{"status": "failure", "user_id": uid, "message": "User " + uid + " not found"}}
		if s.unknown == UnknownUser404 {
			writeJSON(w, http.StatusNotFound, body)
			return
		}
		writeJSON(w, http.StatusOK, body)
		return
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
	writeJSON(w, http.StatusOK, map[string]any{"revoked_tokens": map[string]any{"status": "success", "user_id": uid, "clientID_tokens": list}})
}

func (s *Server) takeFailure() Failure {
	for i := range s.fails {
		if s.fails[i].n > 0 {
			s.fails[i].n--
			return s.fails[i].f
		}
	}
	return FailNone
}

func writeFailure(w http.ResponseWriter, f Failure, uid string, tokens []string) {
	switch f {
	case Fail401:
		w.Header().Set("WWW-Authenticate", `Basic realm="Cisco Unified Communications Manager"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Unauthorized"})
	case Fail403:
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "The user does not have the Standard AXL API Access role"})
	case Fail429:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": "Too many requests"})
	case Fail500:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "Internal Server Error"})
	case FailHTML:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><head><title>502 Proxy Error</title></head><body>proxy error</body></html>")
	case FailStatus:
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
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
