// Package oktafake is a contract fake of the part of the Okta management
// API that idpctl's okta adapter uses: users and their sessions, refresh
// tokens and consent grants, OpenID Connect apps, custom authorization
// servers with their access policies, rules and signing keys, and the
// published JWKS. It is built from Okta's documented requests and answers
// (see the okta package documentation for the sources) and is stateful, so
// a write followed by a read shows the change.
//
// It is a fakekit route table: every route declares its method, path,
// query, headers and body schema and cites the reference page; anything
// the real API would not accept from a correct client, or that the adapter
// should never send, fails the test, is answered with HTTP 418 and is
// recorded in Violations. Faults (401, 403,
// 429 with Okta's rate-limit headers, 500 and an HTML page) are injected
// per test with Inject. Whole-object replacement (PUT of an app or a policy
// rule) stores exactly the body sent, so members a client forgets are gone.
//
// Rate limits follow Okta's "Rate limits" reference of the management
// API: every answer carries X-Rate-Limit-Limit, -Remaining and -Reset (the
// Unix second the window resets, by Okta's clock) and a Date header from
// the same clock; a 429 answers errorCode E0000047. Okta's SDKs wait
// Reset minus Date, so the fake's clock (Options.Now) may differ from the
// client's. Pagination follows the "Pagination" reference: a Link header
// with rel="next" (and "self") carrying an absolute URL with the after
// cursor. On an org reached through a custom domain the links may name the
// org's okta.com host instead (Options.LinkBase); Okta's SDKs keep the
// configured org URL and take only the path and query from the link.
//
// The fake listens on 127.0.0.1 only.
package oktafake

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
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
	Fault401  = fakekit.Unauthorized // E0000011 invalid token
	Fault403  = fakekit.Forbidden    // E0000006 no permission
	Fault429  = fakekit.RateLimited  // E0000047 with X-Rate-Limit-* headers
	Fault500  = fakekit.ServerError  // E0000009 internal error
	FaultHTML = fakekit.HTMLPage     // a 502 HTML page from a proxy
)

// Injection schedules a fault for matching requests.
type Injection = fakekit.Injection

// Request is what reached the fake.
type Request = fakekit.Request

// User is an Okta user.
type User struct {
	ID    string
	Login string
	Email string
}

// Key describes a signing key of an authorization server.
type Key struct {
	Kid    string
	Status string // ACTIVE, NEXT or EXPIRED
}

// Options configure the fake.
type Options struct {
	// Token is the API token (or bearer token) the fake accepts.
	Token string
	// Scheme is the Authorization scheme it expects: "SSWS" (default) or
	// "Bearer".
	Scheme string
	// Now is the fake's clock, used for rate-limit reset times and the
	// Date header.
	Now func() time.Time
	// LinkBase, when set, is the scheme://host Link headers name instead
	// of the fake's own URL, as an org reached through a custom domain
	// may answer with its okta.com host.
	LinkBase string
}

type user struct {
	User
	sessions int
	tokens   map[string]int
	grants   map[string]int
}

type fakeKey struct {
	kid    string
	status string
	priv   *rsa.PrivateKey
}

type authServer struct {
	policies []map[string]any
	rules    map[string][]map[string]any
	keys     []*fakeKey
}

// Server is the fake. Its methods are safe for concurrent use. Its URL is
// the fake org's base URL (http://127.0.0.1:port).
type Server struct {
	fakekit.Loopback

	opts   Options
	t      testing.TB
	mux    *fakekit.Mux
	faults fakekit.Faults

	mu           sync.Mutex
	users        []*user
	apps         []map[string]any
	servers      map[string]*authServer
	orgKeys      []*fakeKey
	seq          int
	keysAsObject bool
	leakPrivate  bool
}

// New starts a fake org on 127.0.0.1; a broken contract fails t. Close it
// when done.
func New(t testing.TB, opts Options) *Server {
	if opts.Scheme == "" {
		opts.Scheme = "SSWS"
	}
	if opts.Token == "" {
		opts.Token = "00fake-api-token"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, t: t, servers: map[string]*authServer{}}
	s.orgKeys = []*fakeKey{{kid: "org-key-1", status: "ACTIVE"}}
	s.faults = fakekit.Faults{
		Body: s.faultBody, JSON: writeJSON, Now: opts.Now,
		RateLimit: fakekit.RateLimitHeaders{Limit: "X-Rate-Limit-Limit", Remaining: "X-Rate-Limit-Remaining", Reset: "X-Rate-Limit-Reset"},
	}
	s.mux = fakekit.NewMux(t, s.routes()...)
	s.Loopback = fakekit.Serve(http.HandlerFunc(s.serve))
	return s
}

// Token is the credential the fake accepts.
func (s *Server) Token() string { return s.opts.Token }

// SetKeysAsObject makes key lists answer {"keys":[...]} (the older
// reference's shape) instead of a bare array.
func (s *Server) SetKeysAsObject(on bool) { s.mu.Lock(); s.keysAsObject = on; s.mu.Unlock() }

// SetLeakPrivateKeyMembers makes key lists carry a private RSA member,
// to prove a client never passes such material on.
func (s *Server) SetLeakPrivateKeyMembers(on bool) { s.mu.Lock(); s.leakPrivate = on; s.mu.Unlock() }

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
	s.users = append(s.users, &user{User: u, tokens: map[string]int{}, grants: map[string]int{}})
}

// AddSessions gives a user n more Okta sessions.
func (s *Server) AddSessions(userID string, n int) { s.with(userID, func(u *user) { u.sessions += n }) }

// AddRefreshTokens gives a user n more refresh tokens for a client.
func (s *Server) AddRefreshTokens(userID, clientID string, n int) {
	s.with(userID, func(u *user) { u.tokens[clientID] += n })
}

// AddGrants gives a user n more consent grants for a client.
func (s *Server) AddGrants(userID, clientID string, n int) {
	s.with(userID, func(u *user) { u.grants[clientID] += n })
}

// Sessions counts a user's sessions.
func (s *Server) Sessions(userID string) (n int) {
	s.with(userID, func(u *user) { n = u.sessions })
	return
}

// RefreshTokens counts a user's refresh tokens for a client ("" = all).
func (s *Server) RefreshTokens(userID, clientID string) (n int) {
	s.with(userID, func(u *user) {
		for c, k := range u.tokens {
			if clientID == "" || c == clientID {
				n += k
			}
		}
	})
	return
}

// Grants counts a user's consent grants for a client.
func (s *Server) Grants(userID, clientID string) (n int) {
	s.with(userID, func(u *user) { n = u.grants[clientID] })
	return
}

func (s *Server) with(userID string, fn func(*user)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.ID == userID {
			fn(u)
			return
		}
	}
	panic("oktafake: no user " + userID)
}

// AddApp adds an app object (see OIDCApp).
func (s *Server) AddApp(app map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps = append(s.apps, fakekit.Clone(app))
}

// App returns a copy of the stored app, or nil.
func (s *Server) App(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.findApp(id); a != nil {
		return fakekit.Clone(a)
	}
	return nil
}

// AddAuthorizationServer adds a custom authorization server with an
// ACTIVE, a NEXT and an EXPIRED signing key.
func (s *Server) AddAuthorizationServer(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servers[id] = &authServer{
		rules: map[string][]map[string]any{},
		keys: []*fakeKey{
			{kid: id + "-key-1", status: "EXPIRED"},
			{kid: id + "-key-2", status: "ACTIVE"},
			{kid: id + "-key-3", status: "NEXT"},
		},
	}
}

// AddPolicy adds an access policy (see Policy) to an authorization server.
func (s *Server) AddPolicy(as string, pol map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := s.servers[as]
	srv.policies = append(srv.policies, fakekit.Clone(pol))
}

// AddRule adds a rule (see Rule) to a policy.
func (s *Server) AddRule(as, policyID string, rule map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := s.servers[as]
	srv.rules[policyID] = append(srv.rules[policyID], fakekit.Clone(rule))
}

// Rule returns a copy of a stored rule, or nil.
func (s *Server) Rule(as, policyID, ruleID string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.servers[as].rules[policyID] {
		if r["id"] == ruleID {
			return fakekit.Clone(r)
		}
	}
	return nil
}

// Keys lists an authorization server's keys.
func (s *Server) Keys(as string) []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Key
	for _, k := range s.servers[as].keys {
		out = append(out, Key{Kid: k.kid, Status: k.status})
	}
	return out
}

// OIDCApp builds an OpenID Connect app object as Okta answers it, with the
// unrelated members a whole-object PUT must preserve.
func OIDCApp(id, clientID, label string, grantTypes ...string) map[string]any {
	if len(grantTypes) == 0 {
		grantTypes = []string{"authorization_code", "refresh_token"}
	}
	gt := make([]any, len(grantTypes))
	for i, g := range grantTypes {
		gt[i] = g
	}
	return map[string]any{
		"id": id, "name": "oidc_client", "label": label, "status": "ACTIVE",
		"signOnMode":  "OPENID_CONNECT",
		"created":     "2024-01-02T03:04:05.000Z",
		"lastUpdated": "2024-01-02T03:04:05.000Z",
		"accessibility": map[string]any{
			"selfService": false, "errorRedirectUrl": nil, "loginRedirectUrl": nil,
		},
		"visibility": map[string]any{"autoSubmitToolbar": false, "hide": map[string]any{"iOS": true, "web": true}},
		"credentials": map[string]any{
			"userNameTemplate": map[string]any{"template": "${source.login}", "type": "BUILT_IN"},
			"oauthClient": map[string]any{
				"autoKeyRotation": true, "client_id": clientID, "token_endpoint_auth_method": "client_secret_basic",
			},
		},
		"settings": map[string]any{
			"app": map[string]any{},
			"oauthClient": map[string]any{
				"client_uri":       "https://app.example.com",
				"redirect_uris":    []any{"https://app.example.com/callback"},
				"response_types":   []any{"code"},
				"grant_types":      gt,
				"application_type": "web",
				"consent_method":   "REQUIRED",
				"issuer_mode":      "ORG_URL",
			},
		},
		"_links": map[string]any{"self": map[string]any{"href": "https://example.okta.com/api/v1/apps/" + id}},
	}
}

// Policy builds an authorization-server access policy object.
func Policy(id, name string, priority int, clients ...string) map[string]any {
	inc := make([]any, len(clients))
	for i, c := range clients {
		inc[i] = c
	}
	return map[string]any{
		"type": "OAUTH_AUTHORIZATION_POLICY", "id": id, "status": "ACTIVE", "name": name,
		"description": name + " policy", "priority": priority, "system": false,
		"conditions": map[string]any{"clients": map[string]any{"include": inc}},
		"created":    "2024-01-02T03:04:05.000Z", "lastUpdated": "2024-01-02T03:04:05.000Z",
	}
}

// Rule builds a policy rule object with people and scope conditions (the
// members a whole-rule PUT must preserve).
func Rule(id, name string, priority, access, refresh, window int, grantTypes ...string) map[string]any {
	if len(grantTypes) == 0 {
		grantTypes = []string{"authorization_code"}
	}
	gt := make([]any, len(grantTypes))
	for i, g := range grantTypes {
		gt[i] = g
	}
	return map[string]any{
		"type": "RESOURCE_ACCESS", "id": id, "status": "ACTIVE", "name": name, "priority": priority,
		"system": false, "created": "2024-01-02T03:04:05.000Z", "lastUpdated": "2024-01-02T03:04:05.000Z",
		"conditions": map[string]any{
			"people": map[string]any{
				"users":  map[string]any{"include": []any{}, "exclude": []any{}},
				"groups": map[string]any{"include": []any{"EVERYONE"}, "exclude": []any{}},
			},
			"grantTypes": map[string]any{"include": gt},
			"scopes":     map[string]any{"include": []any{"*"}},
		},
		"actions": map[string]any{"token": map[string]any{
			"accessTokenLifetimeMinutes":  access,
			"refreshTokenLifetimeMinutes": refresh,
			"refreshTokenWindowMinutes":   window,
		}},
	}
}

// ---- serving ------------------------------------------------------------

// Doc is the reference the routes are built from.
const Doc = "Okta management API reference"

// routes is the contract: the management API operations the adapter
// uses, each citing its reference page, and the published JWKS.
func (s *Server) routes() []fakekit.Route {
	// A whole object sent back: what it must hold is checked by the
	// answer, with Okta's own 400s.
	whole := &fakekit.Schema{Type: "object", AllowExtra: true}
	r := func(pattern, doc string, answer func(*http.Request, any) fakekit.Answer, optional ...string) fakekit.Route {
		// The API token is checked by serve, which answers a wrong one 401.
		return fakekit.Route{Pattern: pattern, Doc: Doc + ": " + doc, OptionalQuery: optional, Answer: answer}
	}
	put := func(rt fakekit.Route) fakekit.Route { rt.Body = whole; return rt }
	const as = "/api/v1/authorizationServers/{as}"
	return []fakekit.Route{
		r("GET /api/v1/users/{id}", "User API, Retrieve a user", s.getUser),
		r("DELETE /api/v1/users/{id}/sessions", "User Sessions API, Revoke all user sessions", s.endSessions, "oauthTokens", "forgetDevices"),
		r("GET /api/v1/users/{id}/clients/{client}/tokens", "User OAuth 2.0 Token Management API, List all refresh tokens for a client", s.listGrants("tokens"), "limit", "after", "expand"),
		r("DELETE /api/v1/users/{id}/clients/{client}/tokens", "User OAuth 2.0 Token Management API, Revoke all refresh tokens for a client", s.revokeGrants("tokens")),
		r("GET /api/v1/users/{id}/clients/{client}/grants", "User Grant API, List all grants for a client", s.listGrants("grants"), "limit", "after", "expand"),
		r("DELETE /api/v1/users/{id}/clients/{client}/grants", "User Grant API, Revoke all grants for a client", s.revokeGrants("grants")),
		r("GET /api/v1/apps", "Application API, List all applications", s.listApps, "filter", "limit", "after", "q"),
		r("GET /api/v1/apps/{id}", "Application API, Retrieve an application", s.getApp),
		put(r("PUT /api/v1/apps/{id}", "Application API, Replace an application", s.putApp)),
		r("GET "+as+"/policies", "Authorization Server Policies API, List all policies", s.listPolicies),
		r("GET "+as+"/policies/{pid}/rules", "Authorization Server Rules API, List all policy rules", s.listRules),
		r("GET "+as+"/policies/{pid}/rules/{rid}", "Authorization Server Rules API, Retrieve a policy rule", s.rule),
		put(r("PUT "+as+"/policies/{pid}/rules/{rid}", "Authorization Server Rules API, Replace a policy rule", s.rule)),
		r("GET "+as+"/credentials/keys", "Authorization Server Keys API, List all credential keys", s.serverKeys),
		put(r("POST "+as+"/credentials/lifecycle/keyRotate", "Authorization Server Keys API, Rotate all credential keys", s.rotateKeys)),
		{Pattern: "GET /oauth2/v1/keys", Doc: Doc + ": OpenID Connect & OAuth 2.0 API, keys (org authorization server)", Answer: s.jwks},
		{Pattern: "GET /oauth2/{as}/v1/keys", Doc: Doc + ": OpenID Connect & OAuth 2.0 API, keys", Answer: s.jwks},
	}
}

// serve stamps every answer with Okta's request id, Date and rate-limit
// headers, serves scheduled faults, and checks the API token before the
// route table; the published JWKS is public.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	w.Header().Set("X-Okta-Request-Id", fmt.Sprintf("fake-req-%d", s.seq))
	w.Header().Set("Date", s.opts.Now().UTC().Format(http.TimeFormat))
	s.faults.RateLimit.Set(w.Header(), 600, max(0, 600-s.seq), s.opts.Now().Add(time.Minute))
	if in, ok := s.faults.Take(r); ok {
		s.mux.Record(fakekit.Capture(r))
		s.faults.Answer(w, in)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/oauth2/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case !ok || scheme != s.opts.Scheme:
		s.mux.Record(fakekit.Capture(r))
		writeJSON(w, http.StatusTeapot, s.violationBody(r, fmt.Sprintf("Authorization scheme %q, want %q", scheme, s.opts.Scheme)))
	case cred != s.opts.Token:
		s.mux.Record(fakekit.Capture(r))
		s.faults.Answer(w, fakekit.Injection{Fault: Fault401})
	default:
		s.mux.ServeHTTP(w, r)
	}
}

// faultBody answers faults with Okta's error objects.
func (s *Server) faultBody(_ http.Header, f Fault) any {
	switch f {
	case Fault401:
		return s.oktaErrorBody("E0000011", "Invalid token provided")
	case Fault403:
		return s.oktaErrorBody("E0000006", "You do not have permission to perform the requested action")
	case Fault429:
		return s.oktaErrorBody("E0000047", "API call exceeded rate limit due to too many requests.")
	case Fault500:
		return s.oktaErrorBody("E0000009", "Internal Server Error")
	}
	return fakekit.BadGateway()
}

// violationBody records a breach no route field expresses, fails the
// test, and is the 418's body.
func (s *Server) violationBody(r *http.Request, problem string) map[string]any {
	msg := s.mux.Violate("%s %s: %s", r.Method, r.URL.Path, problem)
	s.t.Errorf("oktafake: contract violation: %s (%s)", msg, Doc)
	return map[string]any{"errorCode": "FAKE", "errorSummary": "contract violation: " + msg}
}

func (s *Server) violation(r *http.Request, format string, args ...any) fakekit.Answer {
	return js(http.StatusTeapot, s.violationBody(r, fmt.Sprintf(format, args...)))
}

func writeJSON(w http.ResponseWriter, status int, v any) { fakekit.WriteJSON(w, status, "", v) }

// js is a JSON answer of a route.
func js(status int, v any) fakekit.Answer { return fakekit.Answer{Status: status, JSON: v} }

var noContent = fakekit.Answer{Status: http.StatusNoContent}

func (s *Server) oktaError(status int, code, summary string, causes ...string) fakekit.Answer {
	return js(status, s.oktaErrorBody(code, summary, causes...))
}

func (s *Server) oktaErrorBody(code, summary string, causes ...string) map[string]any {
	cs := []any{}
	for _, c := range causes {
		cs = append(cs, map[string]any{"errorSummary": c})
	}
	return map[string]any{
		"errorCode": code, "errorSummary": summary, "errorLink": code,
		"errorId": fmt.Sprintf("oae-fake-%d", s.seq), "errorCauses": cs,
	}
}

func (s *Server) notFound(what, kind string) fakekit.Answer {
	return s.oktaError(404, "E0000007", fmt.Sprintf("Not found: Resource not found: %s (%s)", what, kind))
}

// object is a decoded JSON body as plain values (numbers as float64).
func object(body any) map[string]any {
	m, _ := fakekit.Clone(map[string]any{"v": body})["v"].(map[string]any)
	return m
}

func (s *Server) linkBase() string {
	if s.opts.LinkBase != "" {
		return s.opts.LinkBase
	}
	return s.URL
}

// page answers one page of items with Okta's Link pagination.
func (s *Server) page(r *http.Request, items []any) fakekit.Answer {
	q := r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return s.oktaError(400, "E0000001", "Api validation failed: limit", "limit must be between 1 and 200")
		}
		limit = n
	}
	start := 0
	if v := q.Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s.violation(r, "after cursor %q was not one the fake handed out", v)
		}
		start = n
	}
	start = min(start, len(items))
	end := min(start+limit, len(items))
	a := js(200, items[start:end])
	a.Header = http.Header{}
	if end < len(items) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("limit", strconv.Itoa(limit))
		nq.Set("after", strconv.Itoa(end))
		a.Header.Add("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, s.linkBase(), r.URL.Path, nq.Encode()))
	}
	a.Header.Add("Link", fmt.Sprintf(`<%s%s?%s>; rel="self"`, s.linkBase(), r.URL.Path, q.Encode()))
	return a
}

// ---- users ---------------------------------------------------------------

func (s *Server) userByID(id string) *user {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// getUser finds a user by id or login, as Okta does.
func (s *Server) getUser(r *http.Request, _ any) fakekit.Answer {
	id := r.PathValue("id")
	for _, u := range s.users {
		if u.ID == id || strings.EqualFold(u.Login, id) {
			return js(200, map[string]any{
				"id": u.ID, "status": "ACTIVE",
				"profile": map[string]any{"login": u.Login, "email": u.Email, "firstName": "Test", "lastName": "User"},
				"_links":  map[string]any{"self": map[string]any{"href": s.URL + "/api/v1/users/" + u.ID}},
			})
		}
	}
	return s.notFound(id, "User")
}

// Sub-resources take the user id only, as Okta documents.

func (s *Server) endSessions(r *http.Request, _ any) fakekit.Answer {
	for _, k := range []string{"oauthTokens", "forgetDevices"} {
		if v := r.URL.Query().Get(k); v != "" && v != "true" && v != "false" {
			return s.violation(r, "%s=%q is not a boolean", k, v)
		}
	}
	u := s.userByID(r.PathValue("id"))
	if u == nil {
		return s.notFound(r.PathValue("id"), "User")
	}
	u.sessions = 0
	if r.URL.Query().Get("oauthTokens") == "true" {
		u.tokens = map[string]int{}
	}
	return noContent
}

// userClient finds the user and client of a token or grant path.
func (s *Server) userClient(r *http.Request, kind string) (*user, map[string]int, *fakekit.Answer) {
	u := s.userByID(r.PathValue("id"))
	if u == nil {
		a := s.notFound(r.PathValue("id"), "User")
		return nil, nil, &a
	}
	if s.appByClientID(r.PathValue("client")) == nil {
		a := s.notFound(r.PathValue("client"), "OAuth2Client")
		return nil, nil, &a
	}
	if kind == "grants" {
		return u, u.grants, nil
	}
	return u, u.tokens, nil
}

func (s *Server) listGrants(kind string) func(*http.Request, any) fakekit.Answer {
	return func(r *http.Request, _ any) fakekit.Answer {
		u, counts, refused := s.userClient(r, kind)
		if refused != nil {
			return *refused
		}
		client := r.PathValue("client")
		prefix := "oar"
		if kind == "grants" {
			prefix = "oag"
		}
		items := []any{}
		for i := 0; i < counts[client]; i++ {
			items = append(items, map[string]any{
				"id": fmt.Sprintf("%s%s%d", prefix, client, i), "status": "ACTIVE",
				"clientId": client, "userId": u.ID, "issuer": s.URL + "/oauth2/default",
				"created": "2024-01-02T03:04:05.000Z", "expiresAt": "2030-01-02T03:04:05.000Z",
			})
		}
		return s.page(r, items)
	}
}

func (s *Server) revokeGrants(kind string) func(*http.Request, any) fakekit.Answer {
	return func(r *http.Request, _ any) fakekit.Answer {
		_, counts, refused := s.userClient(r, kind)
		if refused != nil {
			return *refused
		}
		delete(counts, r.PathValue("client"))
		return noContent
	}
}

// ---- apps ----------------------------------------------------------------

func (s *Server) findApp(id string) map[string]any {
	for _, a := range s.apps {
		if a["id"] == id {
			return a
		}
	}
	return nil
}

func (s *Server) appByClientID(clientID string) map[string]any {
	for _, a := range s.apps {
		if cred, _ := a["credentials"].(map[string]any); cred != nil {
			if oc, _ := cred["oauthClient"].(map[string]any); oc != nil && oc["client_id"] == clientID {
				return a
			}
		}
	}
	return nil
}

func (s *Server) listApps(r *http.Request, _ any) fakekit.Answer {
	f := r.URL.Query().Get("filter")
	if f != "" && f != `name eq "oidc_client"` {
		return s.violation(r, "unexpected app filter %q", f)
	}
	items := []any{}
	for _, a := range s.apps {
		if f == "" || a["name"] == "oidc_client" {
			items = append(items, fakekit.Clone(a))
		}
	}
	return s.page(r, items)
}

func (s *Server) getApp(r *http.Request, _ any) fakekit.Answer {
	a := s.findApp(r.PathValue("id"))
	if a == nil {
		return s.notFound(r.PathValue("id"), "AppInstance")
	}
	return js(200, fakekit.Clone(a))
}

// putApp replaces the whole app: delta updates are not supported.
func (s *Server) putApp(r *http.Request, body any) fakekit.Answer {
	id := r.PathValue("id")
	if s.findApp(id) == nil {
		return s.notFound(id, "AppInstance")
	}
	m := object(body)
	if got, ok := m["id"]; ok && got != id {
		return s.violation(r, "PUT with id %v", got)
	}
	var missing []string
	for _, k := range []string{"name", "label", "signOnMode", "credentials", "settings"} {
		if _, ok := m[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return s.oktaError(400, "E0000001", "Api validation failed: "+strings.Join(missing, ", "), "delta updates are not supported: send the whole app")
	}
	if rt := path(m, "settings", "oauthClient", "refresh_token"); rt != nil {
		if t := rt["rotation_type"]; t != "ROTATE" && t != "STATIC" {
			return s.oktaError(400, "E0000001", "Api validation failed: refresh_token", "rotation_type must be ROTATE or STATIC")
		}
		if l, ok := fakekit.Int(rt["leeway"]); rt["leeway"] != nil && (!ok || l < 0 || l > 60) {
			return s.oktaError(400, "E0000001", "Api validation failed: refresh_token", "leeway must be 0 to 60")
		}
	}
	m["id"] = id
	m["lastUpdated"] = s.stamp()
	for i, old := range s.apps {
		if old["id"] == id {
			s.apps[i] = m
		}
	}
	return js(200, fakekit.Clone(m))
}

func (s *Server) stamp() string {
	return s.opts.Now().UTC().Add(time.Duration(s.seq) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// ---- authorization servers -------------------------------------------------

func (s *Server) server(r *http.Request) (*authServer, *fakekit.Answer) {
	srv := s.servers[r.PathValue("as")]
	if srv == nil {
		a := s.notFound(r.PathValue("as"), "AuthorizationServer")
		return nil, &a
	}
	return srv, nil
}

func (s *Server) listPolicies(r *http.Request, _ any) fakekit.Answer {
	srv, refused := s.server(r)
	if refused != nil {
		return *refused
	}
	items := []any{}
	for _, p := range srv.policies {
		items = append(items, fakekit.Clone(p))
	}
	return js(200, items)
}

func (s *Server) listRules(r *http.Request, _ any) fakekit.Answer {
	srv, refused := s.server(r)
	if refused != nil {
		return *refused
	}
	if !srv.hasPolicy(r.PathValue("pid")) {
		return s.notFound(r.PathValue("pid"), "Policy")
	}
	items := []any{}
	for _, x := range srv.rules[r.PathValue("pid")] {
		items = append(items, fakekit.Clone(x))
	}
	return js(200, items)
}

func (s *Server) serverKeys(r *http.Request, _ any) fakekit.Answer {
	srv, refused := s.server(r)
	if refused != nil {
		return *refused
	}
	return s.keyList(srv.keys)
}

func (s *Server) rotateKeys(r *http.Request, body any) fakekit.Answer {
	srv, refused := s.server(r)
	if refused != nil {
		return *refused
	}
	if m := object(body); len(m) != 1 || m["use"] != "sig" {
		return s.oktaError(400, "E0000001", "Api validation failed: rotateKeys", "Invalid value specified for key 'use' parameter.")
	}
	srv.rotate(s.seq)
	return s.keyList(srv.keys)
}

func (a *authServer) hasPolicy(id string) bool {
	for _, p := range a.policies {
		if p["id"] == id {
			return true
		}
	}
	return false
}

// rotate does what Okta documents: NEXT becomes ACTIVE, ACTIVE becomes
// EXPIRED, the older EXPIRED key goes and a new NEXT key is made.
func (a *authServer) rotate(seq int) {
	var keep []*fakeKey
	base := ""
	for _, k := range a.keys {
		switch k.status {
		case "EXPIRED":
			continue
		case "ACTIVE":
			k.status = "EXPIRED"
		case "NEXT":
			k.status = "ACTIVE"
			base = k.kid
		}
		keep = append(keep, k)
	}
	a.keys = append(keep, &fakeKey{kid: fmt.Sprintf("%s-r%d", base, seq), status: "NEXT"})
}

// rule reads or replaces a policy rule; a PUT must send the whole rule.
func (s *Server) rule(r *http.Request, body any) fakekit.Answer {
	srv, refused := s.server(r)
	if refused != nil {
		return *refused
	}
	pid, rid := r.PathValue("pid"), r.PathValue("rid")
	rules := srv.rules[pid]
	idx := -1
	for i, x := range rules {
		if x["id"] == rid {
			idx = i
		}
	}
	if idx < 0 {
		return s.notFound(rid, "PolicyRule")
	}
	if r.Method == http.MethodGet {
		return js(200, fakekit.Clone(rules[idx]))
	}
	m := object(body)
	if id, ok := m["id"]; ok && id != rid {
		return s.violation(r, "PUT with id %v", id)
	}
	var missing []string
	for _, k := range []string{"name", "type", "status", "conditions", "actions"} {
		if _, ok := m[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return s.oktaError(400, "E0000001", "Api validation failed: "+strings.Join(missing, ", "), "the whole rule must be sent")
	}
	if gt := path(m, "conditions", "grantTypes"); gt == nil || len(asList(gt["include"])) == 0 {
		return s.oktaError(400, "E0000001", "Api validation failed: conditions", "grantTypes.include is required")
	}
	tok := path(m, "actions", "token")
	access, okA := fakekit.Int(tok["accessTokenLifetimeMinutes"])
	refresh, okR := fakekit.Int(tok["refreshTokenLifetimeMinutes"])
	window, okW := fakekit.Int(tok["refreshTokenWindowMinutes"])
	var causes []string
	switch {
	case !okA || !okR || !okW:
		causes = append(causes, "actions.token needs accessTokenLifetimeMinutes, refreshTokenLifetimeMinutes and refreshTokenWindowMinutes")
	default:
		if access < 5 || access > 1440 {
			causes = append(causes, "accessTokenLifetimeMinutes must be between 5 and 1440")
		}
		if refresh != 0 && refresh < access {
			causes = append(causes, "refreshTokenLifetimeMinutes must be at least the access token lifetime")
		}
		if refresh != 0 && (refresh < 10 || refresh > 5*365*24*60) {
			causes = append(causes, "refreshTokenLifetimeMinutes must be between 10 minutes and 5 years, or 0 (unlimited)")
		}
		if window < 10 || window > 5*365*24*60 {
			causes = append(causes, "refreshTokenWindowMinutes must be between 10 minutes and 5 years")
		}
		if refresh != 0 && window > refresh {
			causes = append(causes, "refreshTokenWindowMinutes cannot exceed refreshTokenLifetimeMinutes")
		}
	}
	if len(causes) > 0 {
		return s.oktaError(400, "E0000001", "Api validation failed: actions", causes...)
	}
	m["id"] = rid
	m["lastUpdated"] = s.stamp()
	rules[idx] = m
	return js(200, fakekit.Clone(m))
}

// ---- keys ------------------------------------------------------------------

func (k *fakeKey) material() *rsa.PrivateKey {
	if k.priv == nil {
		k.priv = fakekit.NewRSAKey()
	}
	return k.priv
}

func (k *fakeKey) public() map[string]any {
	m := fakekit.PublicMembers(&k.material().PublicKey)
	m["kty"], m["alg"], m["use"], m["kid"] = "RSA", "RS256", "sig", k.kid
	return m
}

func (s *Server) keyList(keys []*fakeKey) fakekit.Answer {
	items := []any{}
	for _, k := range keys {
		m := k.public()
		m["status"] = k.status
		if s.leakPrivate {
			m["d"] = fakekit.PrivateMembers(k.material())["d"]
		}
		items = append(items, m)
	}
	if s.keysAsObject {
		return js(200, map[string]any{"keys": items})
	}
	return js(200, items)
}

// jwks serves /oauth2/{as}/v1/keys and the org server's /oauth2/v1/keys.
func (s *Server) jwks(r *http.Request, _ any) fakekit.Answer {
	keys := s.orgKeys
	if as := r.PathValue("as"); as != "" {
		srv := s.servers[as]
		if srv == nil {
			return s.oktaError(404, "E0000007", "Not found: Resource not found: "+as+" (AuthorizationServer)")
		}
		keys = srv.keys
	}
	out := []any{}
	for _, k := range keys {
		out = append(out, k.public())
	}
	return js(200, map[string]any{"keys": out})
}

// ---- helpers -----------------------------------------------------------------

func path(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, _ := m[k].(map[string]any)
		if next == nil {
			return nil
		}
		m = next
	}
	return m
}

func asList(v any) []any { l, _ := v.([]any); return l }
