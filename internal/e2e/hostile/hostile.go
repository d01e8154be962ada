// Package hostile is an identity provider that misbehaves on purpose, for
// the end-to-end tests of idpctl's hardening.
//
// A Server listens on 127.0.0.1 (plain http, or https with a certificate
// the test chooses), serves a discovery document naming itself, a JWKS
// with one RSA key, and a token endpoint that issues Bearer tokens. Each of
// those three endpoints can be given a Behavior instead: an HTML page, a
// truncated or oversized body, a body trickled byte by byte, a redirect, a
// rate limit, odd token fields. Every request is recorded, so a test can
// count how often an endpoint was hit (a token POST must never be
// repeated: a replayed refresh token trips reuse detection, RFC 9700
// §4.14.2) and check what a second server was sent.
//
// Tokens that succeed are tested against real IdPs; this server exists for
// the answers no real IdP gives on purpose.
package hostile

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Paths served. The discovery path is the OIDC Discovery §4 one; the others
// are this server's choice and appear in its discovery document.
const (
	PathDiscovery = "/.well-known/openid-configuration"
	PathJWKS      = "/jwks"
	PathToken     = "/token"
)

// KeyID is the kid of the server's signing key in its JWKS.
const KeyID = "hostile-rs256"

// maxRecordedBody bounds what is kept of each request body.
const maxRecordedBody = 64 << 10

// Config shapes one Server. The zero value is a well-behaved IdP on http.
type Config struct {
	// Issuer is the issuer the discovery document claims; the server's own
	// URL when empty.
	Issuer string
	// Endpoints replace members of the discovery document, e.g.
	// {"token_endpoint": "http://idp.example.invalid/token"}.
	Endpoints map[string]string
	// Discovery, JWKS and Token replace the normal answer of the endpoint;
	// nil keeps it.
	Discovery, JWKS, Token Behavior
	// Certificate, when set, makes the server speak https with it.
	Certificate *tls.Certificate
}

// Behavior answers one request in place of the normal answer.
type Behavior func(w http.ResponseWriter, r *http.Request, c Call)

// Call is what a Behavior knows about the request it answers.
type Call struct {
	Server *Server
	// Hit counts the requests to this endpoint so far, this one included.
	Hit int
	// Document is the normal JSON answer of the endpoint.
	Document []byte
	// Normal writes the normal answer.
	Normal http.HandlerFunc
}

// Request is a recorded request.
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	// Body is the start of the request body.
	Body []byte
}

// Server is a running hostile IdP.
type Server struct {
	// URL is the server's base URL, http or https on 127.0.0.1.
	URL string
	// Issuer is what the discovery document names as issuer.
	Issuer string

	cfg Config
	srv *httptest.Server
	key *rsa.PrivateKey

	mu       sync.Mutex
	requests []Request
	hits     map[string]int
	issued   []string
	// release is closed when the server shuts down, to free Hang.
	release chan struct{}
}

// Start runs a Server for the test and closes it in t.Cleanup.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	key, err := rsaKey()
	if err != nil {
		t.Fatalf("hostile: %v", err)
	}
	s := &Server{cfg: cfg, key: key, hits: map[string]int{}, release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathDiscovery, s.endpoint(PathDiscovery, cfg.Discovery, s.discovery))
	mux.HandleFunc("GET "+PathJWKS, s.endpoint(PathJWKS, cfg.JWKS, s.jwks))
	mux.HandleFunc("POST "+PathToken, s.endpoint(PathToken, cfg.Token, s.token))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		http.NotFound(w, r)
	})

	s.srv = httptest.NewUnstartedServer(mux)
	// Quiet: a client cutting off a 50 MB body or refusing a certificate
	// is the point of a test, not something to log.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cfg.Certificate != nil {
		s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cfg.Certificate}, MinVersion: tls.VersionTLS12}
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	s.Issuer = cfg.Issuer
	if s.Issuer == "" {
		s.Issuer = s.URL
	}
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	close(s.release)
	// Hanging and trickling handlers end with their clients; closing the
	// client connections first keeps Close from waiting on them.
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// endpoint records the request and answers it with the behaviour, or
// normally.
func (s *Server) endpoint(path string, b Behavior, doc func() []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body := s.record(r)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.hits[path]++
		hit := s.hits[path]
		s.mu.Unlock()
		document := doc()
		normal := func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, document)
		}
		if b == nil {
			normal(w, r)
			return
		}
		b(w, r, Call{Server: s, Hit: hit, Document: document, Normal: normal})
	}
}

func (s *Server) record(r *http.Request) []byte {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body,
	})
	return body
}

// Hits is how many requests reached path.
func (s *Server) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// Requests lists every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Received reports whether any request carried v in its URL, a header or
// its body.
func (s *Server) Received(v string) bool {
	for _, r := range s.Requests() {
		if strings.Contains(r.Path+"?"+r.Query, v) || bytes.Contains(r.Body, []byte(v)) {
			return true
		}
		for _, vals := range r.Header {
			for _, h := range vals {
				if strings.Contains(h, v) {
					return true
				}
			}
		}
	}
	return false
}

// Issued lists the access tokens the token endpoint made, one per request
// whether or not a Behavior sent it instead of its own answer; a test must
// treat them as secrets.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// metadata is the discovery document the server serves normally.
func (s *Server) metadata() map[string]any {
	md := map[string]any{
		"issuer":                                s.Issuer,
		"token_endpoint":                        s.URL + PathToken,
		"jwks_uri":                              s.URL + PathJWKS,
		"grant_types_supported":                 []string{"client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
	for k, v := range s.cfg.Endpoints {
		md[k] = v
	}
	return md
}

func (s *Server) discovery() []byte { return mustJSON(s.metadata()) }

func (s *Server) jwks() []byte { return mustJSON(s.JWKSWithKeyID(KeyID)) }

// token issues a fresh access token for each request, so that the normal
// answer is a real success a test can tell from a cached one.
func (s *Server) token() []byte {
	at := "hostile-at-" + randomHex(16)
	s.mu.Lock()
	s.issued = append(s.issued, at)
	s.mu.Unlock()
	return mustJSON(map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 3600})
}

func writeJSON(w http.ResponseWriter, status int, doc []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(doc)
}

// mustJSON marshals the server's own documents: maps of strings, numbers
// and lists, which cannot fail to encode.
func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
