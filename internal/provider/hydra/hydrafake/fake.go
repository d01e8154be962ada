// Package hydrafake is a contract fake of Ory Hydra v2's admin API (and the
// public JWKS), built from Hydra's server source: the handlers in
// consent/handler.go, client/handler.go and jwk/handler.go, the client
// snapshots under client/.snapshots, and ory/x's Link-header pagination.
// It keeps state (clients, consent sessions, login sessions, key sets) and
// is a fakekit route table: every route declares its method, path, query,
// headers and body schema, citing the operation of the OpenAPI document;
// a request outside the contract fails the test, is answered with HTTP 418
// and is recorded for Errors.
//
// It reproduces Hydra's traps: PUT /admin/clients/{id}/lifespans nulls
// every lifespan it is not sent; DELETE of consent sessions answers 204 for
// subjects it does not know; key sets are read newest first and carry
// private key members on the admin API.
//
// The consent endpoints follow the Ory Hydra v2 OpenAPI document
// (spec/api.json: listOAuth2ConsentSessions, revokeOAuth2ConsentSessions)
// and the persister behind them: the listing leaves out sessions whose
// remembered consent has timed out (remember_for seconds after it was
// handled; filterExpiredConsentRequests in persistence/sql), while the
// refresh tokens issued under them stay valid for their own lifespan
// (ttl.refresh_token, 720h by default) until the DELETE, which removes
// every matching session whether listed or not. Under concurrent deletes
// a real Hydra answers 400 with ory/x's sqlcon.ErrConcurrentUpdate
// ("Unable to serialize access due to a concurrent update in another
// session."); ConcurrentUpdate serves that.
package hydrafake

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider/fakekit"
)

// Lifespans are the per-client lifespans of current Hydra (v2 with the
// device authorization grant): thirteen members, all replaced by PUT
// .../lifespans.
var Lifespans = []string{
	"authorization_code_grant_access_token_lifespan",
	"authorization_code_grant_id_token_lifespan",
	"authorization_code_grant_refresh_token_lifespan",
	"client_credentials_grant_access_token_lifespan",
	"device_authorization_grant_access_token_lifespan",
	"device_authorization_grant_id_token_lifespan",
	"device_authorization_grant_refresh_token_lifespan",
	"implicit_grant_access_token_lifespan",
	"implicit_grant_id_token_lifespan",
	"jwt_bearer_grant_access_token_lifespan",
	"refresh_token_grant_access_token_lifespan",
	"refresh_token_grant_id_token_lifespan",
	"refresh_token_grant_refresh_token_lifespan",
}

// Fault is an error the fake serves instead of the real answer.
type Fault = fakekit.Fault

const (
	Unauthorized = fakekit.Unauthorized // 401, as Ory Network answers a bad API key
	Forbidden    = fakekit.Forbidden    // 403
	RateLimited  = fakekit.RateLimited  // 429 with Retry-After: 1 (from a proxy or Ory Network)
	ServerError  = fakekit.ServerError  // 500
	Unavailable  = fakekit.Unavailable  // 503 with Retry-After: 1
	HTMLPage     = fakekit.HTMLPage     // 502 HTML page from a reverse proxy
	// ConcurrentUpdate is the 400 a real Hydra answers when its database
	// aborts a transaction on a serialization conflict (two deletes of the
	// same subject at once), in herodot's error container.
	ConcurrentUpdate = fakekit.VendorFault + 1
	// ConcurrentUpdateOAuth is the same conflict in the flat
	// {"error","error_description"} form of newer releases.
	ConcurrentUpdateOAuth = fakekit.VendorFault + 2
)

// ConcurrentUpdateMessage is ory/x sqlcon.ErrConcurrentUpdate's text.
const ConcurrentUpdateMessage = "Unable to serialize access due to a concurrent update in another session."

// Request is one request the fake received.
type Request = fakekit.Request

type consent struct {
	subject, client string
	handledAt       time.Time
	// rememberFor is the consent's remember_for; zero remembers it for
	// ever. Past handledAt+rememberFor the listing hides the session, but
	// its refresh token lives on until revoked.
	rememberFor time.Duration
}

func (c consent) listed(now time.Time) bool {
	return c.rememberFor <= 0 || c.handledAt.Add(c.rememberFor).After(now)
}

// Server is the fake. Create it with New and stop it with Close. Its URL
// serves both the admin API (/admin/...) and the public JWKS.
type Server struct {
	fakekit.Loopback

	t      testing.TB
	mux    *fakekit.Mux
	faults fakekit.Faults

	mu sync.Mutex
	// token is the bearer API key required on admin calls; "" means the
	// open-source admin port, where no Authorization header may be sent.
	token     string
	pageSize  int
	clientIDs []string
	clients   map[string]map[string]any
	consents  []consent
	logins    map[string]int
	sets      map[string][]map[string]any // newest first, private members included
	now       func() time.Time
}

// New starts a fake on a loopback port; a broken contract fails t.
func New(t testing.TB) *Server {
	s := &Server{
		t:        t,
		pageSize: 250,
		clients:  map[string]map[string]any{},
		logins:   map[string]int{},
		sets:     map[string][]map[string]any{},
		now:      func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) },
	}
	s.faults = fakekit.Faults{Body: faultBody, JSON: writeJSON, RetryAfter: "1"}
	s.mux = fakekit.NewMux(t, s.routes()...)
	s.Loopback = fakekit.Serve(http.HandlerFunc(s.serve))
	return s
}

// RequireToken makes every admin call need "Authorization: Bearer token"
// (Ory Network's project API key); without it no Authorization header may
// be sent.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetPageSize sets the default page size of listings (Hydra's is 250).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// Fail makes the next times requests matching method and path (either ""
// for any) fail with f.
func (s *Server) Fail(method, path string, f Fault, times int) {
	if times > 0 {
		s.faults.Inject(fakekit.Injection{Method: method, Path: path, Fault: f, Times: times})
	}
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request { return s.mux.Requests() }

// Errors returns the contract violations seen so far.
func (s *Server) Errors() []string { return s.mux.Violations() }

// AddClient creates a client with Hydra's default members, every lifespan
// null, overridden by fields.
func (s *Server) AddClient(id string, fields map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Format(time.RFC3339)
	c := map[string]any{
		"client_id": id, "client_name": "", "redirect_uris": []any{"http://127.0.0.1/cb"},
		"grant_types": []any{"authorization_code", "refresh_token"}, "response_types": []any{"code"},
		"scope": "openid offline_access", "audience": []any{}, "owner": "", "policy_uri": "",
		"allowed_cors_origins": []any{}, "tos_uri": "", "client_uri": "", "logo_uri": "", "contacts": []any{},
		"client_secret_expires_at": 0, "subject_type": "public", "jwks": map[string]any{},
		"token_endpoint_auth_method": "client_secret_basic", "userinfo_signed_response_alg": "none",
		"metadata": map[string]any{}, "skip_consent": false, "skip_logout_consent": nil,
		"created_at": now, "updated_at": now,
	}
	for _, k := range Lifespans {
		c[k] = nil
	}
	for k, v := range fields {
		c[k] = v
	}
	if _, ok := s.clients[id]; !ok {
		s.clientIDs = append(s.clientIDs, id)
	}
	s.clients[id] = c
}

// Client returns a copy of a client as GET /admin/clients/{id} would, or
// nil.
func (s *Server) Client(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil
	}
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	return out
}

// ensureClient registers client with default fields unless it exists: a
// consent session in Hydra is always for a registered client.
func (s *Server) ensureClient(id string) {
	if s.Client(id) == nil {
		s.AddClient(id, nil)
	}
}

// AddConsent records that subject granted consent to client, registering
// the client if needed.
func (s *Server) AddConsent(subject, client string) {
	s.ensureClient(client)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consents = append(s.consents, consent{subject: subject, client: client, handledAt: time.Date(2025, 1, 2, 3, 4, 5, len(s.consents), time.UTC)})
}

// AddTimedOutConsent records a consent of subject to client that was
// remembered for rememberFor and handled so long ago that the remembering
// has timed out: GET .../sessions/consent no longer lists it, but the
// refresh token issued under it is still valid (Hydra's refresh tokens
// live 720h by default, consents are often remembered for an hour).
func (s *Server) AddTimedOutConsent(subject, client string, rememberFor time.Duration) {
	s.ensureClient(client)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consents = append(s.consents, consent{subject: subject, client: client, rememberFor: rememberFor, handledAt: s.now().Add(-rememberFor - time.Minute)})
}

// Consents lists the clients subject has consent sessions with, listed or
// hidden: while one is here, the tokens issued under it are valid.
func (s *Server) Consents(subject string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.consents {
		if c.subject == subject {
			out = append(out, c.client)
		}
	}
	return out
}

// AddLoginSession records an SSO login session of subject.
func (s *Server) AddLoginSession(subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logins[subject]++
}

// LoginSessions counts subject's login sessions.
func (s *Server) LoginSessions(subject string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins[subject]
}

// AddKey generates an RS256 key in set, newest first, and returns its kid.
func (s *Server) AddKey(set string) string {
	k := newRSAKey()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sets[set] = append([]map[string]any{k}, s.sets[set]...)
	return k["kid"].(string)
}

// Keys lists the kids of set, newest first.
func (s *Server) Keys(set string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, k := range s.sets[set] {
		out = append(out, k["kid"].(string))
	}
	return out
}

// PrivateMembers returns every private member value the fake has handed
// out, so tests can prove none of them leaks into results or errors.
func (s *Server) PrivateMembers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, set := range s.sets {
		for _, k := range set {
			for _, m := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if v, ok := k[m].(string); ok {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// ---- HTTP -------------------------------------------------------------------

// Doc is the document the routes are built from.
const Doc = "Ory Hydra v2 OpenAPI (spec/api.json)"

// routes is the contract: Hydra v2's admin operations idpctl uses, by
// operationId, and the public JWKS.
func (s *Server) routes() []fakekit.Route {
	// Every admin answer is JSON, and Hydra's SDKs ask for it.
	admin := map[string]string{"Accept": "application/json*"}
	lifespans := map[string]*fakekit.Schema{}
	for _, k := range Lifespans {
		// A Go duration string, or null to inherit (client/handler.go).
		lifespans[k] = &fakekit.Schema{Type: "string", Nullable: true}
	}
	str := func(enum ...string) *fakekit.Schema { return &fakekit.Schema{Type: "string", Enum: enum} }
	return []fakekit.Route{
		{Pattern: "GET /admin/oauth2/auth/sessions/consent", Doc: Doc + " listOAuth2ConsentSessions", Header: admin,
			OptionalQuery: []string{"subject", "login_session_id", "page_size", "page_token"}, Answer: s.listConsents},
		{Pattern: "DELETE /admin/oauth2/auth/sessions/consent", Doc: Doc + " revokeOAuth2ConsentSessions", Header: admin,
			Query: map[string]string{"subject": fakekit.Any}, OptionalQuery: []string{"client", "all", "consent_request_id"}, Answer: s.revokeConsents},
		{Pattern: "DELETE /admin/oauth2/auth/sessions/login", Doc: Doc + " revokeOAuth2LoginSessions", Header: admin,
			OptionalQuery: []string{"subject", "sid"}, Answer: s.revokeLogins},
		{Pattern: "GET /admin/clients", Doc: Doc + " listOAuth2Clients", Header: admin,
			OptionalQuery: []string{"page_size", "page_token", "client_name", "owner"}, Answer: s.listClients},
		{Pattern: "GET /admin/clients/{id}", Doc: Doc + " getOAuth2Client", Header: admin, Answer: s.getClient},
		{Pattern: "PUT /admin/clients/{id}/lifespans", Doc: Doc + " setOAuth2ClientLifespans", Header: admin,
			Body: &fakekit.Schema{Type: "object", Properties: lifespans}, Answer: s.setLifespans},
		{Pattern: "GET /admin/keys/{set}", Doc: Doc + " getJsonWebKeySet", Header: admin, Answer: s.getKeySet},
		{Pattern: "POST /admin/keys/{set}", Doc: Doc + " createJsonWebKeySet", Header: admin,
			Body: &fakekit.Schema{Type: "object", Required: []string{"alg", "use", "kid"},
				Properties: map[string]*fakekit.Schema{"alg": str("RS256"), "use": str("sig"), "kid": str("")}},
			Answer: s.createKey},
		{Pattern: "DELETE /admin/keys/{set}/{kid}", Doc: Doc + " deleteJsonWebKey", Header: admin, Answer: s.deleteKey},
		{Pattern: "GET /.well-known/jwks.json", Doc: Doc + " discoverJsonWebKeys", Answer: s.publicJWKS},
	}
}

// serve checks the admin credential and serves scheduled faults before the
// route table; the public JWKS takes neither.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(r.URL.Path, "/admin/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	auth := r.Header.Get("Authorization")
	switch {
	case s.token == "" && auth != "":
		s.refuse(w, r, "an Authorization header was sent to an admin port that takes none")
		return
	case s.token != "" && !strings.HasPrefix(auth, "Bearer "):
		s.refuse(w, r, fmt.Sprintf("expected a Bearer API key, got %q", scheme(auth)))
		return
	case s.token != "" && auth != "Bearer "+s.token:
		s.mux.Record(fakekit.Capture(r))
		s.faults.Answer(w, fakekit.Injection{Fault: Unauthorized})
		return
	}
	if in, ok := s.faults.Take(r); ok {
		s.mux.Record(fakekit.Capture(r))
		switch in.Fault {
		case ConcurrentUpdate:
			// herodot's DefaultError in its container, as ory/x sqlcon
			// returns it.
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
				"code": 400, "status": "Bad Request", "message": ConcurrentUpdateMessage,
			}})
		case ConcurrentUpdateOAuth:
			writeJSON(w, http.StatusBadRequest, oauthError(ConcurrentUpdateMessage, ""))
		default:
			s.faults.Answer(w, in)
		}
		return
	}
	s.mux.ServeHTTP(w, r)
}

// refuse records a request the route table never sees as a violation.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, problem string) {
	s.mux.Record(fakekit.Capture(r))
	writeJSON(w, http.StatusTeapot, oauthError("contract_violation", s.violate("%s %s: %s", r.Method, r.URL.RequestURI(), problem)))
}

// violate records a breach of a rule no route field expresses (a
// combination of parameters) and fails the test, as the mux does.
func (s *Server) violate(format string, args ...any) string {
	msg := s.mux.Violate(format, args...)
	s.t.Errorf("hydrafake: contract violation: %s (%s)", msg, Doc)
	return msg
}

func (s *Server) contract(r *http.Request, problem string) fakekit.Answer {
	return js(http.StatusTeapot, oauthError("contract_violation", s.violate("%s %s: %s", r.Method, r.URL.RequestURI(), problem)))
}

func scheme(auth string) string {
	if i := strings.IndexByte(auth, ' '); i > 0 {
		return auth[:i]
	}
	if auth == "" {
		return ""
	}
	return "(no scheme)"
}

// faultBody answers faults with Hydra's error objects (error and
// error_description), and a 502 as an nginx in front of Hydra.
func faultBody(_ http.Header, f Fault) any {
	switch f {
	case Unauthorized:
		return oauthError("request_unauthorized", "The request could not be authorized.")
	case Forbidden:
		return oauthError("request_forbidden", "The requested action was forbidden.")
	case RateLimited:
		return oauthError("too_many_requests", "Rate limit exceeded.")
	case ServerError:
		return oauthError("server_error", "The authorization server encountered an unexpected condition.")
	case Unavailable:
		return oauthError("temporarily_unavailable", "The service is unavailable.")
	}
	return fakekit.Page{
		ContentType: "text/html; charset=utf-8",
		HTML:        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
	}
}

func oauthError(code, desc string) map[string]string {
	return map[string]string{"error": code, "error_description": desc}
}

const jsonType = "application/json; charset=utf-8"

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(status))
	fakekit.WriteJSON(w, status, jsonType, v)
}

// js is writeJSON as a route's answer.
func js(status int, v any) fakekit.Answer {
	return fakekit.Answer{Status: status, JSON: v, ContentType: jsonType, Header: http.Header{"X-Request-Id": {"req-" + strconv.Itoa(status)}}}
}

func notFound() fakekit.Answer {
	return js(http.StatusNotFound, map[string]string{"error": "Unable to locate the resource", "error_description": ""})
}

// page cuts items by the page_size and page_token query and sets the Link
// header the way ory/x's keyset pagination does: rel="first" always,
// rel="next" while more remain, URLs relative to the admin root. A refusal
// comes back as the answer to send.
func (s *Server) page(r *http.Request, n int) (from, to int, link string, refused *fakekit.Answer) {
	size := s.pageSize
	if v := r.URL.Query().Get("page_size"); v != "" {
		sz, err := strconv.Atoi(v)
		if err != nil || sz < 1 || sz > 1000 {
			a := js(http.StatusBadRequest, oauthError("invalid_request", "Unable to parse pagination parameters"))
			return 0, 0, "", &a
		}
		size = sz
	}
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		off, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || off < 0 {
			a := s.contract(r, fmt.Sprintf("page_token %q was not issued by this server", tok))
			return 0, 0, "", &a
		}
		from = off
	}
	from = min(from, n)
	to = min(from+size, n)
	mk := func(rel string, off int) string {
		q := r.URL.Query()
		q.Set("page_size", strconv.Itoa(size))
		q.Set("page_token", base64.RawURLEncoding.EncodeToString([]byte("offset:"+strconv.Itoa(off))))
		return fmt.Sprintf("<%s?%s>; rel=%q", r.URL.Path, q.Encode(), rel)
	}
	links := []string{mk("first", 0)}
	if to < n {
		links = append(links, mk("next", to))
	}
	return from, to, strings.Join(links, ","), nil
}

func (s *Server) listConsents(r *http.Request, _ any) fakekit.Answer {
	subject := r.URL.Query().Get("subject")
	if subject == "" {
		return js(http.StatusBadRequest, oauthError("invalid_request", "Query parameter 'subject' is not defined but should have been."))
	}
	var mine []consent
	for _, c := range s.consents {
		if c.subject == subject && c.listed(s.now()) {
			mine = append(mine, c)
		}
	}
	from, to, link, refused := s.page(r, len(mine))
	if refused != nil {
		return *refused
	}
	out := []map[string]any{}
	for _, c := range mine[from:to] {
		out = append(out, map[string]any{
			"consent_request": map[string]any{
				"challenge": "ch-" + c.client, "subject": c.subject, "requested_scope": []string{"openid", "offline_access"},
				"client": map[string]any{"client_id": c.client, "client_name": c.client},
			},
			"consent_request_id": "cr-" + c.client,
			"grant_scope":        []string{"openid", "offline_access"},
			"handled_at":         c.handledAt.Format(time.RFC3339Nano),
			"remember":           true,
			"remember_for":       int(c.rememberFor / time.Second),
			"session":            map[string]any{"access_token": map[string]any{}, "id_token": map[string]any{}},
		})
	}
	a := js(http.StatusOK, out)
	a.Header.Set("Link", link)
	return a
}

// revokeConsents follows consent/handler.go: exactly subject&client or
// subject&all=true; unknown subjects and clients are 204 as well.
func (s *Server) revokeConsents(r *http.Request, _ any) fakekit.Answer {
	q := r.URL.Query()
	subject, client, all := q.Get("subject"), q.Get("client"), q.Get("all") == "true"
	switch {
	case client != "" && !q.Has("all"):
	case client == "" && all:
	default:
		return s.contract(r, "invalid combination of query parameters (Hydra answers 400)")
	}
	kept := s.consents[:0]
	for _, c := range s.consents {
		if c.subject == subject && (all || c.client == client) {
			continue
		}
		kept = append(kept, c)
	}
	s.consents = kept
	return fakekit.Answer{Status: http.StatusNoContent}
}

func (s *Server) revokeLogins(r *http.Request, _ any) fakekit.Answer {
	subject := r.URL.Query().Get("subject")
	if subject == "" {
		return s.contract(r, "neither subject nor sid given (Hydra answers 400)")
	}
	delete(s.logins, subject)
	return fakekit.Answer{Status: http.StatusNoContent}
}

func (s *Server) listClients(r *http.Request, _ any) fakekit.Answer {
	from, to, link, refused := s.page(r, len(s.clientIDs))
	if refused != nil {
		return *refused
	}
	out := []map[string]any{}
	for _, id := range s.clientIDs[from:to] {
		out = append(out, s.clients[id])
	}
	a := js(http.StatusOK, out)
	a.Header.Set("Link", link)
	return a
}

func (s *Server) getClient(r *http.Request, _ any) fakekit.Answer {
	c, ok := s.clients[r.PathValue("id")]
	if !ok {
		return notFound()
	}
	return js(http.StatusOK, c)
}

// setLifespans replaces every lifespan, as client/handler.go does with
// c.Lifespans = ls: a member not sent becomes null. The schema has checked
// that only lifespans are sent, each a string or null.
func (s *Server) setLifespans(r *http.Request, body any) fakekit.Answer {
	c, ok := s.clients[r.PathValue("id")]
	if !ok {
		return notFound()
	}
	in, _ := body.(map[string]any)
	next := map[string]any{}
	for _, k := range Lifespans {
		str, _ := in[k].(string)
		if str == "" {
			next[k] = nil
			continue
		}
		d, err := time.ParseDuration(str)
		if err != nil {
			return js(http.StatusBadRequest, oauthError("invalid_request", fmt.Sprintf("Unable to decode the request body: %s is not a duration", k)))
		}
		next[k] = d.String()
	}
	for k, v := range next {
		c[k] = v
	}
	c["updated_at"] = time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	return js(http.StatusOK, c)
}

func (s *Server) getKeySet(r *http.Request, _ any) fakekit.Answer {
	set := r.PathValue("set")
	if len(s.sets[set]) == 0 {
		return notFound()
	}
	return js(http.StatusOK, map[string]any{"keys": s.sets[set]})
}

func (s *Server) createKey(r *http.Request, _ any) fakekit.Answer {
	set := r.PathValue("set")
	k := newRSAKey()
	s.sets[set] = append([]map[string]any{k}, s.sets[set]...)
	a := js(http.StatusCreated, map[string]any{"keys": []map[string]any{k}})
	a.Header.Set("Location", s.URL+"/keys/"+url.PathEscape(set))
	return a
}

func (s *Server) deleteKey(r *http.Request, _ any) fakekit.Answer {
	set, kid := r.PathValue("set"), r.PathValue("kid")
	keys := s.sets[set]
	for i, k := range keys {
		if k["kid"] == kid {
			s.sets[set] = append(keys[:i:i], keys[i+1:]...)
			return fakekit.Answer{Status: http.StatusNoContent}
		}
	}
	return notFound()
}

// publicJWKS serves /.well-known/jwks.json: the keys of both signing sets,
// public members only (jwk.ExcludePrivateKeys).
func (s *Server) publicJWKS(*http.Request, any) fakekit.Answer {
	var keys []map[string]any
	names := make([]string, 0, len(s.sets))
	for name := range s.sets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name != "hydra.openid.id-token" && name != "hydra.jwt.access-token" {
			continue
		}
		for _, k := range s.sets[name] {
			pub := map[string]any{}
			for _, m := range []string{"kty", "kid", "alg", "use", "n", "e"} {
				pub[m] = k[m]
			}
			keys = append(keys, pub)
		}
	}
	if keys == nil {
		keys = []map[string]any{}
	}
	return js(http.StatusOK, map[string]any{"keys": keys})
}

// newRSAKey generates a real RSA key in JWK form with its private members,
// as Hydra's admin API returns it.
func newRSAKey() map[string]any {
	k := fakekit.NewRSAKey()
	kidBytes := make([]byte, 16)
	rand.Read(kidBytes)
	jwk := fakekit.PublicMembers(&k.PublicKey)
	for m, v := range fakekit.PrivateMembers(k) {
		jwk[m] = v
	}
	jwk["kty"], jwk["alg"], jwk["use"] = "RSA", "RS256", "sig"
	jwk["kid"] = fmt.Sprintf("%x-%x-%x-%x-%x", kidBytes[0:4], kidBytes[4:6], kidBytes[6:8], kidBytes[8:10], kidBytes[10:16])
	return jwk
}
