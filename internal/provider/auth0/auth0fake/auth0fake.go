// Package auth0fake is a contract fake of the part of the Auth0
// Management API v2 that idpctl's auth0 adapter uses: the
// client-credentials token endpoint, users and their refresh tokens and
// sessions (with the newer refresh-token APIs and the older
// device-credentials ones), applications with their refresh_token
// settings, APIs (resource servers), signing keys, the encryption rekey
// and the published JWKS. It is built from Auth0's documented requests and
// answers (see the auth0 package documentation for the sources) and is
// stateful, so a write followed by a read shows the change.
//
// It is a fakekit route table: every route declares its method, path,
// query and body schema and cites the Management API operation; anything
// the real API would not accept from a correct client, or that the adapter
// should never send, fails the test, is answered with HTTP 418 and is
// recorded in Violations. Faults (401, 403,
// 429 with Auth0's rate-limit headers, 500 and an HTML page) are injected
// per test with Inject. An application's refresh_token object is replaced
// whole by a PATCH, so members a client forgets are gone.
//
// Shapes taken from the Management API v2 OpenAPI document (the
// definition behind Auth0's API explorer): GET /api/v2/device-credentials
// takes page, per_page (at most 1000), include_totals, fields,
// include_fields, user_id, client_id and type (public_key, refresh_token
// or rotating_refresh_token, one per request) and answers an array, or
// with include_totals=true an object {start, limit, length, total,
// device_credentials}; without per_page a page holds 50. Applications
// using refresh-token rotation (the default of single-page apps) hold
// rotating_refresh_token credentials. GET /api/v2/users-by-email matches
// the email case-sensitively ("Email address to search for
// (case-sensitive)"), which bites where a connection keeps the case its
// upstream IdP sent. GET /api/v2/users/{id} answers the user or 404
// inexistent_user. A resource server's token_lifetime_for_web may not
// exceed its token_lifetime. Machine-to-machine applications are created
// with token_endpoint_auth_method client_secret_post, and the token
// endpoint refuses other methods for them (the exact refusal body is not
// documented; the fake answers as for a wrong secret).
//
// The fake listens on 127.0.0.1 only.
package auth0fake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider/fakekit"
)

// Fault is an error answer injected instead of the normal one.
type Fault = fakekit.Fault

// Faults the fake can serve.
const (
	Fault401  = fakekit.Unauthorized // invalid token
	Fault403  = fakekit.Forbidden    // insufficient scope
	Fault429  = fakekit.RateLimited  // too_many_requests with X-RateLimit-* headers
	Fault500  = fakekit.ServerError  // internal error
	FaultHTML = fakekit.HTMLPage     // a 502 HTML page from a proxy
)

// Injection schedules a fault for matching requests.
type Injection = fakekit.Injection

// Request is what reached the fake.
type Request = fakekit.Request

// User is an Auth0 user.
type User struct {
	ID    string // auth0|abc
	Email string
}

// Key describes a signing key.
type Key struct {
	Kid                              string
	Current, Next, Previous, Revoked bool
}

// Availability says whether the tenant has an endpoint.
type Availability int

const (
	// Available endpoints work.
	Available Availability = iota
	// NotFound endpoints answer Auth0's generic 404, as an early-access
	// endpoint the tenant does not have.
	NotFound
	// NotEnabled endpoints answer 403 naming a feature not enabled, as on
	// a plan without it.
	NotEnabled
)

// Options configure the fake.
type Options struct {
	// ClientID and ClientSecret are the machine-to-machine application the
	// token endpoint accepts.
	ClientID, ClientSecret string
	// BearerToken, when set, is a ready Management API token also accepted.
	BearerToken string
	// Now is the fake's clock, used for rate-limit reset times.
	Now func() time.Time
	// TokenAuthMethod is the machine-to-machine application's
	// token_endpoint_auth_method: client_secret_post (the default, as
	// Auth0 creates such applications) or client_secret_basic.
	TokenAuthMethod string
}

// Device credential types of refresh tokens.
const (
	TypeRefreshToken         = "refresh_token"
	TypeRotatingRefreshToken = "rotating_refresh_token"
)

type refreshToken struct{ id, client, typ string }

type user struct {
	User
	sessions int
	tokens   []refreshToken
}

type signingKey struct {
	kid                              string
	current, next, previous, revoked bool
	since                            time.Time
	priv                             *rsa.PrivateKey
	cert                             []byte
}

// Server is the fake. Its methods are safe for concurrent use. Its URL is
// the fake tenant's base URL (http://127.0.0.1:port).
type Server struct {
	fakekit.Loopback

	opts   Options
	t      testing.TB
	mux    *fakekit.Mux
	faults fakekit.Faults

	mu           sync.Mutex
	issued       map[string]bool
	tokenCount   int
	users        []*user
	clients      []map[string]any
	apis         []map[string]any
	keys         []*signingKey
	rekeys       int
	userAPIs     Availability
	revokeAPI    Availability
	seq          int
	credentialID int
}

// New starts a fake tenant on 127.0.0.1; a broken contract fails t. Close
// it when done.
func New(t testing.TB, opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = "m2m-client"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "m2m-secret"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenAuthMethod == "" {
		opts.TokenAuthMethod = "client_secret_post"
	}
	s := &Server{opts: opts, t: t, issued: map[string]bool{}}
	now := opts.Now()
	s.keys = []*signingKey{
		{kid: "kid-previous", previous: true, since: now.Add(-60 * 24 * time.Hour)},
		{kid: "kid-current", current: true, since: now.Add(-30 * 24 * time.Hour)},
		{kid: "kid-next", next: true},
	}
	s.faults = fakekit.Faults{
		Body: faultBody, JSON: writeJSON, Now: opts.Now,
		RateLimit: fakekit.RateLimitHeaders{Limit: "X-RateLimit-Limit", Remaining: "X-RateLimit-Remaining", Reset: "X-RateLimit-Reset"},
	}
	s.mux = fakekit.NewMux(t, s.routes()...)
	s.Loopback = fakekit.Serve(http.HandlerFunc(s.serve))
	return s
}

// ClientID and ClientSecret are the machine-to-machine credentials the
// token endpoint accepts.
func (s *Server) ClientID() string     { return s.opts.ClientID }
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// Audience is the Management API audience the token endpoint requires.
func (s *Server) Audience() string { return s.URL + "/api/v2/" }

// SetUserAPIs sets whether DELETE /users/{id}/refresh-tokens and
// /sessions exist (Enterprise features).
func (s *Server) SetUserAPIs(a Availability) { s.mu.Lock(); s.userAPIs = a; s.mu.Unlock() }

// SetRevokeAPI sets whether POST /refresh-tokens/revoke exists (early
// access).
func (s *Server) SetRevokeAPI(a Availability) { s.mu.Lock(); s.revokeAPI = a; s.mu.Unlock() }

// ExpireTokens makes every Management API token issued so far invalid.
func (s *Server) ExpireTokens() { s.mu.Lock(); s.issued = map[string]bool{}; s.mu.Unlock() }

// TokensIssued counts client-credentials grants served.
func (s *Server) TokensIssued() int { s.mu.Lock(); defer s.mu.Unlock(); return s.tokenCount }

// Rekeys counts encryption rekeys.
func (s *Server) Rekeys() int { s.mu.Lock(); defer s.mu.Unlock(); return s.rekeys }

// Inject schedules a fault.
func (s *Server) Inject(in Injection) { s.faults.Inject(in) }

// Requests returns what reached the fake, oldest first.
func (s *Server) Requests() []Request { return s.mux.Requests() }

// ClearRequests forgets the recorded requests.
func (s *Server) ClearRequests() { s.mux.ClearRequests() }

// Violations lists the contract violations seen; a correct client causes
// none.
func (s *Server) Violations() []string { return s.mux.Violations() }

// AddUser adds a user.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, &user{User: u})
}

// AddSessions gives a user n more sessions.
func (s *Server) AddSessions(userID string, n int) { s.with(userID, func(u *user) { u.sessions += n }) }

// AddRefreshTokens gives a user n more (non-rotating) refresh tokens for a
// client.
func (s *Server) AddRefreshTokens(userID, clientID string, n int) {
	s.AddTypedRefreshTokens(userID, clientID, TypeRefreshToken, n)
}

// AddTypedRefreshTokens gives a user n more refresh tokens of a device
// credential type (TypeRefreshToken or TypeRotatingRefreshToken).
func (s *Server) AddTypedRefreshTokens(userID, clientID, typ string, n int) {
	s.with(userID, func(u *user) {
		for i := 0; i < n; i++ {
			s.credentialID++
			u.tokens = append(u.tokens, refreshToken{id: fmt.Sprintf("dcr_%d", s.credentialID), client: clientID, typ: typ})
		}
	})
}

// Sessions counts a user's sessions.
func (s *Server) Sessions(userID string) (n int) {
	s.with(userID, func(u *user) { n = u.sessions })
	return
}

// RefreshTokens counts a user's refresh tokens for a client ("" = all).
func (s *Server) RefreshTokens(userID, clientID string) (n int) {
	s.with(userID, func(u *user) {
		for _, t := range u.tokens {
			if clientID == "" || t.client == clientID {
				n++
			}
		}
	})
	return
}

func (s *Server) with(userID string, fn func(*user)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.user(userID); u != nil {
		fn(u)
		return
	}
	panic("auth0fake: no user " + userID)
}

func (s *Server) user(id string) *user {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// AddClient adds an application object (see Application).
func (s *Server) AddClient(c map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients = append(s.clients, fakekit.Clone(c))
}

// StoredClient returns a copy of a stored application, or nil.
func (s *Server) StoredClient(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.client(id); c != nil {
		return fakekit.Clone(c)
	}
	return nil
}

// AddAPI adds a resource server object (see API).
func (s *Server) AddAPI(rs map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apis = append(s.apis, fakekit.Clone(rs))
}

// StoredAPI returns a copy of a stored resource server, by id or
// identifier, or nil.
func (s *Server) StoredAPI(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs := s.api(id); rs != nil {
		return fakekit.Clone(rs)
	}
	return nil
}

// SigningKeys lists the signing keys.
func (s *Server) SigningKeys() []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Key
	for _, k := range s.keys {
		out = append(out, Key{Kid: k.kid, Current: k.current, Next: k.next, Previous: k.previous, Revoked: k.revoked})
	}
	return out
}

// Application builds an application object as Auth0 answers it, with the
// unrelated members a change must preserve. rt may be nil.
func Application(clientID, name string, rt map[string]any) map[string]any {
	c := map[string]any{
		"client_id": clientID, "tenant": "acme", "name": name, "description": "",
		"app_type": "regular_web", "is_first_party": true, "oidc_conformant": true,
		"callbacks":                  []any{"https://app.example.com/callback"},
		"allowed_origins":            []any{},
		"grant_types":                []any{"authorization_code", "refresh_token"},
		"jwt_configuration":          map[string]any{"alg": "RS256", "lifetime_in_seconds": 36000, "secret_encoded": false},
		"token_endpoint_auth_method": "client_secret_post",
	}
	if rt != nil {
		c["refresh_token"] = rt
	}
	return c
}

// RotatingRefreshTokens is a refresh_token object with every member set.
func RotatingRefreshTokens() map[string]any {
	return map[string]any{
		"rotation_type": "rotating", "expiration_type": "expiring", "leeway": 10,
		"token_lifetime": 2592000, "infinite_token_lifetime": false,
		"idle_token_lifetime": 1296000, "infinite_idle_token_lifetime": false,
		"policies": []any{map[string]any{"audience": "https://api.example.com/", "scope": []any{"read:all"}}},
	}
}

// API builds a resource server object.
func API(id, identifier string, tokenLifetime int) map[string]any {
	return map[string]any{
		"id": id, "name": "API " + identifier, "identifier": identifier, "is_system": false,
		"scopes": []any{map[string]any{"value": "read:all", "description": "Read"}}, "signing_alg": "RS256",
		"allow_offline_access": true, "skip_consent_for_verifiable_first_party_clients": true,
		"token_lifetime": tokenLifetime, "token_lifetime_for_web": 7200,
	}
}

// ---- serving ------------------------------------------------------------

// Doc is the document the routes are built from.
const Doc = "Auth0 Management API v2 (OpenAPI document behind the API explorer)"

// routes is the contract: the Management API operations the adapter
// uses, each citing its endpoint, and the published JWKS. The token
// endpoint takes a form, which the table does not describe; serve answers
// it.
func (s *Server) routes() []fakekit.Route {
	r := func(pattern, op string, answer func(*http.Request, any) fakekit.Answer, optional ...string) fakekit.Route {
		return fakekit.Route{Pattern: pattern, Doc: Doc + ": " + op, OptionalQuery: optional, Answer: answer}
	}
	// A PATCH body is an object whose members the answer checks with
	// Auth0's own 400s.
	patch := func(rt fakekit.Route) fakekit.Route {
		rt.Body = &fakekit.Schema{Type: "object", AllowExtra: true}
		return rt
	}
	fields := []string{"fields", "include_fields"}
	paged := []string{"fields", "include_fields", "page", "per_page", "include_totals"}
	return []fakekit.Route{
		r("GET /api/v2/users-by-email", "GET /api/v2/users-by-email", s.usersByEmail, append([]string{"email"}, fields...)...),
		r("GET /api/v2/users/{id}", "GET /api/v2/users/{id}", s.getUser, fields...),
		r("DELETE /api/v2/users/{id}/refresh-tokens", "DELETE /api/v2/users/{user_id}/refresh-tokens", s.userDelete),
		r("DELETE /api/v2/users/{id}/sessions", "DELETE /api/v2/users/{user_id}/sessions", s.userDelete),
		patch(r("POST /api/v2/refresh-tokens/revoke", "POST /api/v2/refresh-tokens/revoke", s.revoke)),
		r("GET /api/v2/device-credentials", "GET /api/v2/device-credentials", s.listDeviceCredentials, append([]string{"user_id", "client_id", "type"}, paged...)...),
		r("DELETE /api/v2/device-credentials/{id}", "DELETE /api/v2/device-credentials/{id}", s.deleteDeviceCredential),
		r("GET /api/v2/clients", "GET /api/v2/clients", s.listClients, paged...),
		r("GET /api/v2/clients/{id}", "GET /api/v2/clients/{id}", s.getClient),
		patch(r("PATCH /api/v2/clients/{id}", "PATCH /api/v2/clients/{id}", s.patchClient)),
		r("GET /api/v2/resource-servers/{id}", "GET /api/v2/resource-servers/{id}", s.getAPI),
		patch(r("PATCH /api/v2/resource-servers/{id}", "PATCH /api/v2/resource-servers/{id}", s.patchAPI)),
		r("GET /api/v2/keys/signing", "GET /api/v2/keys/signing", s.signingKeys),
		r("POST /api/v2/keys/signing/rotate", "POST /api/v2/keys/signing/rotate", s.rotate),
		r("POST /api/v2/keys/encryption/rekey", "POST /api/v2/keys/encryption/rekey", s.rekey),
		r("GET /.well-known/jwks.json", "the tenant's JWKS", s.jwks),
	}
}

// serve sends the rate-limit headers on every answer, serves scheduled
// faults, answers the token endpoint, and checks the Management API token
// before the route table.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.faults.RateLimit.Set(w.Header(), 50, max(0, 50-s.seq), s.opts.Now().Add(time.Minute))
	if in, ok := s.faults.Take(r); ok {
		s.mux.Record(fakekit.Capture(r))
		s.faults.Answer(w, in)
		return
	}
	if r.URL.Path == "/oauth/token" {
		req := fakekit.Capture(r)
		s.mux.Record(req)
		s.token(w, r, req.Body)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case !ok || scheme != "Bearer":
		s.mux.Record(fakekit.Capture(r))
		writeJSON(w, http.StatusTeapot, s.violationBody(r, fmt.Sprintf("Authorization scheme %q, want Bearer", scheme)))
	case !s.issued[tok] && (s.opts.BearerToken == "" || tok != s.opts.BearerToken):
		s.mux.Record(fakekit.Capture(r))
		s.faults.Answer(w, fakekit.Injection{Fault: Fault401})
	default:
		s.mux.ServeHTTP(w, r)
	}
}

// faultBody answers faults with the Management API's error objects.
func faultBody(_ http.Header, f Fault) any {
	switch f {
	case Fault401:
		return apiErrorBody(401, "Unauthorized", "Invalid token", "")
	case Fault403:
		return apiErrorBody(403, "Forbidden", "Insufficient scope, expected any of: delete:refresh_tokens", "insufficient_scope")
	case Fault429:
		return apiErrorBody(429, "Too Many Requests", "Global limit has been reached", "too_many_requests")
	case Fault500:
		return apiErrorBody(500, "Internal Server Error", "Internal error", "")
	}
	return fakekit.BadGateway()
}

// violationBody records a breach no route field expresses, fails the
// test, and is the 418's body.
func (s *Server) violationBody(r *http.Request, problem string) map[string]any {
	msg := s.mux.Violate("%s %s: %s", r.Method, r.URL.Path, problem)
	s.t.Errorf("auth0fake: contract violation: %s (%s)", msg, Doc)
	return map[string]any{"statusCode": 418, "error": "Contract Violation", "message": msg}
}

func (s *Server) violation(r *http.Request, format string, args ...any) fakekit.Answer {
	return js(http.StatusTeapot, s.violationBody(r, fmt.Sprintf(format, args...)))
}

const jsonType = "application/json; charset=utf-8"

func writeJSON(w http.ResponseWriter, status int, v any) { fakekit.WriteJSON(w, status, jsonType, v) }

// js is a JSON answer of a route.
func js(status int, v any) fakekit.Answer {
	return fakekit.Answer{Status: status, JSON: v, ContentType: jsonType}
}

func apiError(status int, errText, message, code string) fakekit.Answer {
	return js(status, apiErrorBody(status, errText, message, code))
}

func apiErrorBody(status int, errText, message, code string) map[string]any {
	doc := map[string]any{"statusCode": status, "error": errText, "message": message}
	if code != "" {
		doc["errorCode"] = code
	}
	return doc
}

func notFoundUser() fakekit.Answer {
	return apiError(404, "Not Found", "The user does not exist.", "inexistent_user")
}

// unavailable is the answer of an endpoint the tenant lacks, or nil.
func unavailable(a Availability) *fakekit.Answer {
	var ans fakekit.Answer
	switch a {
	case NotFound:
		ans = apiError(404, "Not Found", "Not Found", "")
	case NotEnabled:
		ans = apiError(403, "Forbidden", "This feature is not enabled for this tenant.", "feature_not_enabled")
	default:
		return nil
	}
	return &ans
}

// object is a decoded JSON body as the fake stores objects.
func object(body any) map[string]any {
	m, _ := fakekit.Clone(map[string]any{"v": body})["v"].(map[string]any)
	return m
}

func invalid(format string, args ...any) fakekit.Answer {
	return apiError(400, "Bad Request", "Payload validation error: "+fmt.Sprintf(format, args...), "invalid_body")
}

// ---- token endpoint -----------------------------------------------------

func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusTeapot, s.violationBody(r, fmt.Sprintf("token request %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeJSON(w, http.StatusTeapot, s.violationBody(r, "token request body is not a form"))
		return
	}
	id, secret, basic := r.BasicAuth()
	method := "client_secret_post"
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		method = "client_secret_basic"
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	switch {
	case method != s.opts.TokenAuthMethod:
		writeJSON(w, 401, map[string]any{"error": "access_denied", "error_description": "Unauthorized"})
	case form.Get("grant_type") != "client_credentials":
		writeJSON(w, 400, map[string]any{"error": "unsupported_grant_type", "error_description": "Unsupported grant type"})
	case id != s.opts.ClientID || secret != s.opts.ClientSecret:
		writeJSON(w, 401, map[string]any{"error": "access_denied", "error_description": "Unauthorized"})
	case form.Get("audience") != s.Audience():
		writeJSON(w, 403, map[string]any{"error": "access_denied", "error_description": "Service not enabled within domain: " + form.Get("audience")})
	default:
		s.tokenCount++
		tok := fmt.Sprintf("mgmt-token-%d", s.tokenCount)
		s.issued[tok] = true
		writeJSON(w, 200, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 86400, "scope": "read:clients update:clients delete:refresh_tokens delete:sessions"})
	}
}

// ---- users ----------------------------------------------------------------

func (s *Server) usersByEmail(r *http.Request, _ any) fakekit.Answer {
	email := r.URL.Query().Get("email")
	if email == "" {
		return apiError(400, "Bad Request", "Query validation error: 'Missing required property: email'", "invalid_query_string")
	}
	out := []any{}
	for _, u := range s.users {
		if u.Email == email { // case-sensitive, as documented
			out = append(out, map[string]any{"user_id": u.ID, "email": u.Email, "email_verified": true})
		}
	}
	return js(200, out)
}

func (s *Server) getUser(r *http.Request, _ any) fakekit.Answer {
	u := s.user(r.PathValue("id"))
	if u == nil {
		return notFoundUser()
	}
	return js(200, map[string]any{"user_id": u.ID, "email": u.Email})
}

// userDelete deletes a user's refresh tokens or sessions: 202, Auth0
// does it asynchronously.
func (s *Server) userDelete(r *http.Request, _ any) fakekit.Answer {
	if ans := unavailable(s.userAPIs); ans != nil {
		return *ans
	}
	u := s.user(r.PathValue("id"))
	if u == nil {
		return notFoundUser()
	}
	if strings.HasSuffix(r.URL.Path, "/refresh-tokens") {
		u.tokens = nil
	} else {
		u.sessions = 0
	}
	return fakekit.Answer{Status: http.StatusAccepted}
}

func (s *Server) revoke(r *http.Request, body any) fakekit.Answer {
	if ans := unavailable(s.revokeAPI); ans != nil {
		return *ans
	}
	m := object(body)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	combo := strings.Join(keys, "+")
	switch combo {
	case "client_id+user_id", "user_id", "audience+client_id+user_id":
	case "ids", "client_id":
		return s.violation(r, "revoking by %s is not part of the contract", combo)
	default:
		return invalid("exactly one of ids, user_id, user_id+client_id, user_id+client_id+audience or client_id must be given, not %s", combo)
	}
	uid, _ := m["user_id"].(string)
	u := s.user(uid)
	if u == nil {
		return notFoundUser()
	}
	client, _ := m["client_id"].(string)
	u.tokens = slices.DeleteFunc(u.tokens, func(t refreshToken) bool { return client == "" || t.client == client })
	return fakekit.Answer{Status: http.StatusAccepted}
}

func (s *Server) deleteDeviceCredential(r *http.Request, _ any) fakekit.Answer {
	for _, u := range s.users {
		for i, t := range u.tokens {
			if t.id == r.PathValue("id") {
				u.tokens = append(u.tokens[:i], u.tokens[i+1:]...)
				return fakekit.Answer{Status: http.StatusNoContent}
			}
		}
	}
	return apiError(404, "Not Found", "The device credential does not exist.", "inexistent_device_credential")
}

func (s *Server) listDeviceCredentials(r *http.Request, _ any) fakekit.Answer {
	q := r.URL.Query()
	typ := q.Get("type")
	if typ != TypeRefreshToken && typ != TypeRotatingRefreshToken {
		// Without a type Auth0 lists public keys too, which are no tokens
		// and must never be deleted by a revocation.
		return s.violation(r, "device credentials listed with type %q, want refresh_token or rotating_refresh_token", typ)
	}
	page, err1 := strconv.Atoi(orDefault(q.Get("page"), "0"))
	per, err2 := strconv.Atoi(orDefault(q.Get("per_page"), "50"))
	if err1 != nil || err2 != nil || page < 0 || per < 1 || per > 1000 {
		return apiError(400, "Bad Request", "Query validation error: 'page' or 'per_page' out of range (per_page 1 to 1000)", "invalid_query_string")
	}
	all := []any{}
	if u := s.user(q.Get("user_id")); u != nil {
		for _, t := range u.tokens {
			if c := q.Get("client_id"); (c == "" || c == t.client) && t.typ == typ {
				all = append(all, map[string]any{"id": t.id, "device_name": "Chrome on Linux", "device_id": "dev-" + t.id, "type": t.typ, "user_id": u.ID, "client_id": t.client})
			}
		}
	}
	items := []any{}
	for i := page * per; i < min(len(all), (page+1)*per); i++ {
		items = append(items, all[i])
	}
	if q.Get("include_totals") == "true" {
		return js(200, map[string]any{"start": page * per, "limit": per, "length": len(items), "total": len(all), "device_credentials": items})
	}
	return js(200, items)
}

// ---- clients and APIs ----------------------------------------------------------

func (s *Server) client(id string) map[string]any {
	for _, c := range s.clients {
		if c["client_id"] == id {
			return c
		}
	}
	return nil
}

func (s *Server) getClient(r *http.Request, _ any) fakekit.Answer {
	c := s.client(r.PathValue("id"))
	if c == nil {
		return apiError(404, "Not Found", "The client does not exist", "inexistent_client")
	}
	return js(200, fakekit.Clone(c))
}

func (s *Server) patchClient(r *http.Request, body any) fakekit.Answer {
	c := s.client(r.PathValue("id"))
	if c == nil {
		return apiError(404, "Not Found", "The client does not exist", "inexistent_client")
	}
	m := object(body)
	for k, v := range m {
		switch k {
		case "client_id", "tenant", "client_secret":
			return invalid("Additional properties not allowed: %s", k)
		case "refresh_token":
			rt, _ := v.(map[string]any)
			if msg := checkRefreshToken(rt); msg != "" {
				return invalid("%s on property refresh_token", msg)
			}
		}
	}
	// Top-level members merge; an object member replaces the stored one
	// whole, which is what drops refresh_token members a client forgets.
	for k, v := range m {
		c[k] = v
	}
	return js(200, fakekit.Clone(c))
}

func checkRefreshToken(rt map[string]any) string {
	if rt == nil {
		return "Expected type object"
	}
	allowed := []string{"rotation_type", "expiration_type", "leeway", "token_lifetime", "infinite_token_lifetime", "idle_token_lifetime", "infinite_idle_token_lifetime", "policies"}
	for k := range rt {
		if !slices.Contains(allowed, k) {
			return "Additional properties not allowed: " + k
		}
	}
	if rt["rotation_type"] != "rotating" && rt["rotation_type"] != "non-rotating" {
		return "'Missing or invalid required property: rotation_type'"
	}
	if rt["expiration_type"] != "expiring" && rt["expiration_type"] != "non-expiring" {
		return "'Missing or invalid required property: expiration_type'"
	}
	for _, k := range []string{"infinite_token_lifetime", "infinite_idle_token_lifetime"} {
		if v, ok := rt[k]; ok {
			if _, isBool := v.(bool); !isBool {
				return "Expected type boolean for " + k
			}
		}
	}
	if v, ok := rt["leeway"]; ok {
		if n, isInt := fakekit.Int(v); !isInt || n < 0 {
			return "leeway must be an integer of at least 0"
		}
	}
	if v, ok := rt["token_lifetime"]; ok {
		if n, isInt := fakekit.Int(v); !isInt || n < 1 || n > 157788000 {
			return "token_lifetime must be 1 to 157788000"
		}
	}
	if v, ok := rt["idle_token_lifetime"]; ok {
		if n, isInt := fakekit.Int(v); !isInt || n < 1 {
			return "idle_token_lifetime must be at least 1"
		}
	}
	return ""
}

func (s *Server) listClients(r *http.Request, _ any) fakekit.Answer {
	q := r.URL.Query()
	page, err1 := strconv.Atoi(orDefault(q.Get("page"), "0"))
	per, err2 := strconv.Atoi(orDefault(q.Get("per_page"), "50"))
	if err1 != nil || err2 != nil || page < 0 || per < 1 || per > 100 {
		return apiError(400, "Bad Request", "Query validation error: page and per_page", "invalid_query_string")
	}
	var fields []string
	if f := q.Get("fields"); f != "" && q.Get("include_fields") != "false" {
		fields = strings.Split(f, ",")
	}
	items := []any{}
	for i := page * per; i < min(len(s.clients), (page+1)*per); i++ {
		c := fakekit.Clone(s.clients[i])
		if fields != nil {
			for k := range c {
				if !slices.Contains(fields, k) {
					delete(c, k)
				}
			}
		}
		items = append(items, c)
	}
	if q.Get("include_totals") == "true" {
		return js(200, map[string]any{"start": page * per, "limit": per, "length": len(items), "total": len(s.clients), "clients": items})
	}
	return js(200, items)
}

func (s *Server) api(id string) map[string]any {
	for _, rs := range s.apis {
		if rs["id"] == id || rs["identifier"] == id {
			return rs
		}
	}
	return nil
}

func (s *Server) getAPI(r *http.Request, _ any) fakekit.Answer {
	rs := s.api(r.PathValue("id"))
	if rs == nil {
		return apiError(404, "Not Found", "Resource server not found", "inexistent_resource_server")
	}
	return js(200, fakekit.Clone(rs))
}

func (s *Server) patchAPI(r *http.Request, body any) fakekit.Answer {
	rs := s.api(r.PathValue("id"))
	if rs == nil {
		return apiError(404, "Not Found", "Resource server not found", "inexistent_resource_server")
	}
	m := object(body)
	for k, v := range m {
		switch k {
		case "token_lifetime", "token_lifetime_for_web":
			if n, isInt := fakekit.Int(v); !isInt || n < 1 || n > 2592000 {
				return invalid("%s must be 1 to 2592000", k)
			}
		case "id", "identifier", "is_system":
			return invalid("Additional properties not allowed: %s", k)
		}
	}
	life, web := rs["token_lifetime"], rs["token_lifetime_for_web"]
	if v, ok := m["token_lifetime"]; ok {
		life = v
	}
	if v, ok := m["token_lifetime_for_web"]; ok {
		web = v
	}
	if l, ok1 := fakekit.Int(life); ok1 {
		if wb, ok2 := fakekit.Int(web); ok2 && wb > l {
			return invalid("token_lifetime_for_web (%d) must be less than or equal to token_lifetime (%d)", wb, l)
		}
	}
	for k, v := range m {
		rs[k] = v
	}
	return js(200, fakekit.Clone(rs))
}

// ---- keys -------------------------------------------------------------------

func (k *signingKey) material(now time.Time) *rsa.PrivateKey {
	if k.priv != nil {
		return k.priv
	}
	priv := fakekit.NewRSAKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "fake-tenant.auth0.com"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		panic("auth0fake: making a certificate: " + err.Error())
	}
	k.priv, k.cert = priv, der
	return priv
}

func (k *signingKey) pemCert(now time.Time) string {
	k.material(now)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert}))
}

func (s *Server) signingKeys(*http.Request, any) fakekit.Answer {
	now := s.opts.Now()
	out := []any{}
	for _, k := range s.keys {
		cert := k.pemCert(now)
		m := map[string]any{
			"kid": k.kid, "cert": cert, "pkcs7": "-----BEGIN PKCS7-----\n-----END PKCS7-----",
			"current": k.current, "next": k.next, "previous": k.previous, "revoked": k.revoked,
			"fingerprint": fmt.Sprintf("%X", sha1.Sum(k.cert)), "thumbprint": fmt.Sprintf("%x", sha1.Sum(k.cert)),
		}
		if !k.since.IsZero() {
			m["current_since"] = k.since.UTC().Format(time.RFC3339)
		}
		out = append(out, m)
	}
	return js(200, out)
}

// rotate makes the next key current and the current one previous.
func (s *Server) rotate(*http.Request, any) fakekit.Answer {
	now := s.opts.Now()
	var current *signingKey
	for _, k := range s.keys {
		switch {
		case k.previous:
			k.previous = false
		case k.current:
			k.current, k.previous = false, true
		case k.next:
			k.next, k.current, k.since = false, true, now
			current = k
		}
	}
	s.keys = append(s.keys, &signingKey{kid: fmt.Sprintf("kid-%d", s.seq), next: true})
	return js(http.StatusCreated, map[string]any{"cert": current.pemCert(now), "kid": current.kid})
}

func (s *Server) rekey(*http.Request, any) fakekit.Answer {
	s.rekeys++
	return fakekit.Answer{Status: http.StatusNoContent}
}

// jwks publishes the current, next and previous signing keys, as Auth0
// does, with public members only.
func (s *Server) jwks(*http.Request, any) fakekit.Answer {
	now := s.opts.Now()
	out := []any{}
	for _, k := range s.keys {
		if k.revoked || !(k.current || k.next || k.previous) {
			continue
		}
		jwk := fakekit.PublicMembers(&k.material(now).PublicKey)
		thumb := sha1.Sum(k.cert)
		jwk["kty"], jwk["use"], jwk["alg"], jwk["kid"] = "RSA", "sig", "RS256", k.kid
		jwk["x5t"], jwk["x5c"] = base64.RawURLEncoding.EncodeToString(thumb[:]), []any{base64.StdEncoding.EncodeToString(k.cert)}
		out = append(out, jwk)
	}
	return js(200, map[string]any{"keys": out})
}

// ---- helpers ---------------------------------------------------------------------

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
