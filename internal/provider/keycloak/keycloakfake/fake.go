// Package keycloakfake is a contract fake of Keycloak's admin REST API for
// one realm, plus the admin token endpoint and the realm's JWKS, built from
// Keycloak's server source (UserResource, RealmAdminResource,
// ClientResource, ComponentResource, KeysMetadataRepresentation,
// KeycloakErrorHandler) and the admin REST API documentation. It keeps
// state (users, sessions, consents and offline tokens, clients, key
// providers and their keys) and is a fakekit route table: each route
// declares its method, path, query, headers and body schema and cites the
// admin REST API operation; a request outside the contract fails the test,
// is answered with HTTP 418 and is recorded for Errors.
//
// It is stricter than the real server where that protects users: PUT of a
// client or a component replaces the whole stored representation, so an
// attribute or config entry that is not sent back is lost.
package keycloakfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
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

// Fault is an error the fake serves instead of the real answer.
type Fault = fakekit.Fault

const (
	Unauthorized = fakekit.Unauthorized // 401, as for an expired admin token
	Forbidden    = fakekit.Forbidden    // 403, a service account without the role
	RateLimited  = fakekit.RateLimited  // 429 with Retry-After: 1 (nginx's page in front of Keycloak)
	ServerError  = fakekit.ServerError  // 500
	Unavailable  = fakekit.Unavailable  // 503 with Retry-After: 1
	HTMLPage     = fakekit.HTMLPage     // 502 HTML page from a reverse proxy
)

// SecretMask is how Keycloak shows secret component config values.
const SecretMask = "**********"

// Request is one request the fake received.
type Request = fakekit.Request

type user struct {
	id, username, email string
	notBefore           int64
}

type session struct {
	id, userID string
	clients    []string // client UUIDs
}

type grant struct {
	consent, offline bool
}

type keyProvider struct {
	rep map[string]any // the component representation, config included
	key *rsa.PrivateKey
	kid string
}

// Server is the fake. Create it with New and stop it with Close. Its URL
// is the server base (no /auth prefix).
type Server struct {
	fakekit.Loopback
	// Realm is the realm managed; RealmID its id.
	Realm, RealmID string
	// AdminClientID and AdminSecret are the client credentials the token
	// endpoint of the master realm accepts.
	AdminClientID, AdminSecret string

	t      testing.TB
	mux    *fakekit.Mux
	faults fakekit.Faults

	mu        sync.Mutex
	realm     map[string]any
	users     []*user
	sessions  []*session
	grants    map[string]map[string]*grant // user id -> client_id -> grant
	clients   map[string]map[string]any    // uuid -> representation
	clientIDs []string                     // uuids in creation order
	providers map[string]*keyProvider      // component id -> provider
	tokens    map[string]bool
	lose      []string // client attributes a PUT drops, to play a lossy server
	seq       int
}

// New starts a fake serving realm on a loopback port, with one active
// rsa-generated signing key and one rsa-enc-generated encryption key, as a
// new realm has. A broken contract fails t.
func New(t testing.TB, realm string) *Server {
	s := &Server{
		t: t, Realm: realm, RealmID: "f3c1e0a4-0000-4000-8000-00000000" + fmt.Sprintf("%04d", len(realm)),
		AdminClientID: "idpctl-admin", AdminSecret: "admin-secret-value",
		grants: map[string]map[string]*grant{}, clients: map[string]map[string]any{},
		providers: map[string]*keyProvider{}, tokens: map[string]bool{},
	}
	s.realm = map[string]any{
		"id": s.RealmID, "realm": realm, "enabled": true,
		"accessTokenLifespan": 300, "ssoSessionIdleTimeout": 1800, "ssoSessionMaxLifespan": 36000,
		"clientSessionIdleTimeout": 0, "clientSessionMaxLifespan": 0,
		"offlineSessionIdleTimeout": 2592000, "offlineSessionMaxLifespan": 5184000, "offlineSessionMaxLifespanEnabled": false,
		"revokeRefreshToken": false, "refreshTokenMaxReuse": 0,
	}
	s.faults = fakekit.Faults{Body: faultBody, JSON: writeJSON, RetryAfter: "1"}
	s.mux = fakekit.NewMux(t, s.routes()...)
	s.Loopback = fakekit.Serve(http.HandlerFunc(s.serve))
	s.AddKeyProvider("rsa-generated", "RS256", 100, true)
	s.AddKeyProvider("rsa-enc-generated", "RSA-OAEP", 100, true)
	return s
}

func (s *Server) nextID() string {
	s.seq++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", s.seq, s.seq)
}

// SetRealm overrides realm settings (accessTokenLifespan and so on).
func (s *Server) SetRealm(fields map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range fields {
		s.realm[k] = v
	}
}

// ExpireTokens makes every admin token issued so far invalid (401), as
// when they expire during a long run.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

// Fail makes the next times requests matching method and path (either ""
// for any) fail with f. The token endpoint is never failed.
func (s *Server) Fail(method, path string, f Fault, times int) {
	if times > 0 {
		s.faults.Inject(fakekit.Injection{Method: method, Path: path, Fault: f, Times: times})
	}
}

// Requests returns the requests received so far, token requests included.
func (s *Server) Requests() []Request { return s.mux.Requests() }

// AdminRequests returns the requests to the admin API only.
func (s *Server) AdminRequests() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if strings.HasPrefix(r.Path, "/admin/") {
			out = append(out, r)
		}
	}
	return out
}

// Errors returns the contract violations seen so far.
func (s *Server) Errors() []string { return s.mux.Violations() }

// LoseOnPut makes client PUTs drop the named attribute even when it is
// sent, as a server that replaces less faithfully would; the adapter's
// read-back must notice.
func (s *Server) LoseOnPut(attr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose = append(s.lose, attr)
}

// AddUser creates a user and returns its id.
func (s *Server) AddUser(username, email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &user{id: s.nextID(), username: strings.ToLower(username), email: email}
	s.users = append(s.users, u)
	return u.id
}

// NotBefore returns the user's not-before (0 when never set).
func (s *Server) NotBefore(userID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.user(userID); u != nil {
		return u.notBefore
	}
	return 0
}

// AddClient creates a client with typical members and the given
// attributes, and returns its UUID.
func (s *Server) AddClient(clientID string, attrs map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID()
	a := map[string]any{"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+", "backchannel.logout.session.required": "true"}
	for k, v := range attrs {
		a[k] = v
	}
	s.clients[id] = map[string]any{
		"id": id, "clientId": clientID, "name": strings.ToUpper(clientID[:1]) + clientID[1:], "enabled": true,
		"protocol": "openid-connect", "publicClient": false, "clientAuthenticatorType": "client-secret",
		"redirectUris": []any{"https://" + clientID + ".example/cb"}, "webOrigins": []any{"+"},
		"standardFlowEnabled": true, "directAccessGrantsEnabled": false, "serviceAccountsEnabled": false,
		"fullScopeAllowed": true, "nodeReRegistrationTimeout": -1, "attributes": a,
		"defaultClientScopes": []any{"web-origins", "profile", "roles", "email"}, "optionalClientScopes": []any{"offline_access"},
		"protocolMappers": []any{map[string]any{"name": "audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper", "config": map[string]any{"included.client.audience": clientID}}},
		"access":          map[string]any{"view": true, "configure": true, "manage": true},
	}
	s.clientIDs = append(s.clientIDs, id)
	return id
}

// Client returns a copy of a client's representation, or nil.
func (s *Server) Client(uuid string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[uuid]
	if !ok {
		return nil
	}
	var out map[string]any
	b, _ := json.Marshal(c)
	json.Unmarshal(b, &out)
	return out
}

func (s *Server) clientByClientID(clientID string) (string, map[string]any) {
	for _, id := range s.clientIDs {
		if c := s.clients[id]; c["clientId"] == clientID {
			return id, c
		}
	}
	return "", nil
}

// AddSession opens an SSO session of the user spanning the given client
// ids and returns the session id.
func (s *Server) AddSession(userID string, clientIDs ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := &session{id: s.nextID(), userID: userID}
	for _, c := range clientIDs {
		uuid, _ := s.clientByClientID(c)
		ss.clients = append(ss.clients, uuid)
	}
	s.sessions = append(s.sessions, ss)
	return ss.id
}

// Sessions lists the user's session ids.
func (s *Server) Sessions(userID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, ss := range s.sessions {
		if ss.userID == userID {
			out = append(out, ss.id)
		}
	}
	return out
}

// AddGrant records a consent and/or an offline token of the user for a
// client.
func (s *Server) AddGrant(userID, clientID string, consent, offline bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants[userID] == nil {
		s.grants[userID] = map[string]*grant{}
	}
	s.grants[userID][clientID] = &grant{consent: consent, offline: offline}
}

// Grants lists the client ids the user has a consent or offline token for.
func (s *Server) Grants(userID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for c := range s.grants[userID] {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// AddKeyProvider adds a generated RSA key provider and returns its
// component id.
func (s *Server) AddKeyProvider(providerID, alg string, priority int, active bool) string {
	kp := newKeyProvider()
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID()
	kp.rep = map[string]any{
		"id": id, "name": providerID, "providerId": providerID, "providerType": "org.keycloak.keys.KeyProvider", "parentId": s.RealmID,
		"config": map[string]any{
			"priority": []any{strconv.Itoa(priority)}, "enabled": []any{"true"}, "active": []any{strconv.FormatBool(active)},
			"keySize": []any{"2048"}, "algorithm": []any{alg}, "privateKey": []any{SecretMask}, "certificate": []any{"MIIC" + kp.kid},
		},
	}
	s.providers[id] = kp
	return id
}

// KeyStatus returns a component's key status: ACTIVE, PASSIVE or DISABLED.
func (s *Server) KeyStatus(componentID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kp, ok := s.providers[componentID]; ok {
		return status(kp)
	}
	return ""
}

// Component returns a copy of a component's representation, or nil.
func (s *Server) Component(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	kp, ok := s.providers[id]
	if !ok {
		return nil
	}
	var out map[string]any
	b, _ := json.Marshal(kp.rep)
	json.Unmarshal(b, &out)
	return out
}

// KID returns the kid of a key provider's key.
func (s *Server) KID(componentID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kp, ok := s.providers[componentID]; ok {
		return kp.kid
	}
	return ""
}

// PrivateMembers returns the private key values behind every key, encoded
// as a JWK would carry them, so tests can prove none of them leaks.
func (s *Server) PrivateMembers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, kp := range s.providers {
		for _, v := range fakekit.PrivateMembers(kp.key) {
			out = append(out, v)
		}
	}
	return out
}

// ---- HTTP -------------------------------------------------------------------

// Doc is the document the routes are built from.
const Doc = "Keycloak Admin REST API (server source: UserResource, RealmAdminResource, ClientResource, ComponentResource)"

// routes is the contract: the admin operations idpctl uses on the realm,
// and the realm's JWKS. The admin token endpoint takes a form, which the
// route table does not describe, and is served by serve.
func (s *Server) routes() []fakekit.Route {
	realm := "/admin/realms/" + url.PathEscape(s.Realm)
	admin := map[string]string{"Accept": "application/json*"}
	// A representation sent back whole: what it holds is checked by the
	// answer, which knows what was read.
	whole := func(required ...string) *fakekit.Schema {
		return &fakekit.Schema{Type: "object", Required: required, AllowExtra: true}
	}
	r := func(pattern, op string, answer func(*http.Request, any) fakekit.Answer) fakekit.Route {
		method, path, _ := strings.Cut(pattern, " ")
		return fakekit.Route{Pattern: method + " " + realm + path, Doc: Doc + ": " + op, Header: admin, Answer: answer}
	}
	users := r("GET /users", "GET /admin/realms/{realm}/users", s.listUsers)
	users.OptionalQuery = []string{"username", "email", "exact", "first", "max", "briefRepresentation", "search"}
	delSession := r("DELETE /sessions/{id}", "DELETE /admin/realms/{realm}/sessions/{session}", s.deleteSession)
	delSession.OptionalQuery = []string{"isOffline"}
	clients := r("GET /clients", "GET /admin/realms/{realm}/clients", s.listClients)
	clients.OptionalQuery = []string{"clientId", "first", "max", "search", "viewableOnly"}
	putClient := r("PUT /clients/{id}", "PUT /admin/realms/{realm}/clients/{client-uuid}", s.putClient)
	putClient.Body = whole("clientId")
	addComponent := r("POST /components", "POST /admin/realms/{realm}/components", s.addComponent)
	addComponent.Body = whole("name", "providerId", "providerType", "parentId", "config")
	putComponent := r("PUT /components/{id}", "PUT /admin/realms/{realm}/components/{id}", s.putComponent)
	putComponent.Body = whole("id", "name", "providerId", "providerType", "parentId", "config")
	return []fakekit.Route{
		r("GET ", "GET /admin/realms/{realm}", func(*http.Request, any) fakekit.Answer { return js(http.StatusOK, s.realm) }),
		users,
		r("GET /users/{id}", "GET /admin/realms/{realm}/users/{user-id}", s.userAnswer(s.getUser)),
		r("GET /users/{id}/sessions", "GET /admin/realms/{realm}/users/{user-id}/sessions", s.userAnswer(s.userSessions)),
		r("GET /users/{id}/consents", "GET /admin/realms/{realm}/users/{user-id}/consents", s.userAnswer(s.userConsents)),
		r("DELETE /users/{id}/consents/{client}", "DELETE /admin/realms/{realm}/users/{user-id}/consents/{client}", s.userAnswer(s.revokeConsent)),
		r("POST /users/{id}/logout", "POST /admin/realms/{realm}/users/{user-id}/logout", s.userAnswer(s.logout)),
		delSession,
		clients,
		r("GET /clients/{id}", "GET /admin/realms/{realm}/clients/{client-uuid}", s.getClient),
		putClient,
		r("GET /keys", "GET /admin/realms/{realm}/keys", s.keys),
		addComponent,
		r("GET /components/{id}", "GET /admin/realms/{realm}/components/{id}", s.getComponent),
		putComponent,
		{Pattern: "GET /realms/" + url.PathEscape(s.Realm) + "/protocol/openid-connect/certs", Doc: "Keycloak realm JWKS (OIDC discovery jwks_uri)", Answer: s.certs},
	}
}

// serve takes the admin token endpoint itself, checks the admin token and
// serves scheduled faults before the route table.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/realms/master/protocol/openid-connect/token" {
		req := fakekit.Capture(r)
		s.mux.Record(req)
		s.token(w, r, req.Body)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/admin/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	auth := r.Header.Get("Authorization")
	switch {
	case !strings.HasPrefix(auth, "Bearer "):
		s.mux.Record(fakekit.Capture(r))
		writeJSON(w, http.StatusTeapot, map[string]string{"errorMessage": s.violate(r, fmt.Sprintf("the admin API takes a Bearer token, got %q", strings.SplitN(auth, " ", 2)[0]))})
		return
	case !s.tokens[strings.TrimPrefix(auth, "Bearer ")]:
		s.mux.Record(fakekit.Capture(r))
		s.faults.Answer(w, fakekit.Injection{Fault: Unauthorized})
		return
	}
	if in, ok := s.faults.Take(r); ok {
		s.mux.Record(fakekit.Capture(r))
		s.faults.Answer(w, in)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// violate records a breach no route field expresses and fails the test.
func (s *Server) violate(r *http.Request, problem string) string {
	msg := s.mux.Violate("%s %s: %s", r.Method, r.URL.RequestURI(), problem)
	s.t.Errorf("keycloakfake: contract violation: %s (%s)", msg, Doc)
	return msg
}

func (s *Server) contract(r *http.Request, format string, args ...any) fakekit.Answer {
	return js(http.StatusTeapot, map[string]string{"errorMessage": s.violate(r, fmt.Sprintf(format, args...))})
}

// token is the master realm's token endpoint for the admin client:
// client_credentials with client_secret_basic or client_secret_post.
func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusTeapot, map[string]string{"errorMessage": s.violate(r, "the token endpoint takes a form POST")})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeJSON(w, http.StatusTeapot, map[string]string{"errorMessage": s.violate(r, "unreadable form")})
		return
	}
	if form.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusTeapot, map[string]string{"errorMessage": s.violate(r, fmt.Sprintf("grant_type %q, want client_credentials", form.Get("grant_type")))})
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id != s.AdminClientID || secret != s.AdminSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"})
		return
	}
	s.seq++
	tok := fmt.Sprintf("kc-admin-token-%d", s.seq)
	s.tokens[tok] = true
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": 300, "token_type": "Bearer", "scope": "profile email"})
}

// faultBody answers faults with Keycloak's error bodies, and a 429 and a
// 502 as the proxy in front of it: Keycloak has no rate limit of its own,
// so a 429 is nginx's limit_req answering.
func faultBody(_ http.Header, f Fault) any {
	switch f {
	case Unauthorized:
		return map[string]string{"error": "HTTP 401 Unauthorized"}
	case Forbidden:
		return map[string]string{"error": "unknown_error", "error_description": "For more on this error consult the server log."}
	case RateLimited:
		return fakekit.Page{
			ContentType: "text/html",
			HTML:        "<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests</h1></center><hr><center>nginx</center></body></html>",
		}
	case ServerError, Unavailable:
		return map[string]string{"error": "unknown_error"}
	}
	return fakekit.BadGateway()
}

func writeJSON(w http.ResponseWriter, status int, v any) { fakekit.WriteJSON(w, status, "", v) }

// js is a JSON answer of a route.
func js(status int, v any) fakekit.Answer { return fakekit.Answer{Status: status, JSON: v} }

var noContent = fakekit.Answer{Status: http.StatusNoContent}

// notFound answers as KeycloakErrorHandler does for a NotFoundException
// whose message is not an OAuth error code.
func notFound(msg string) fakekit.Answer {
	return js(http.StatusNotFound, map[string]string{"error": "invalid_request", "error_description": msg})
}

func (s *Server) user(id string) *user {
	for _, u := range s.users {
		if u.id == id {
			return u
		}
	}
	return nil
}

func userRep(u *user) map[string]any {
	return map[string]any{"id": u.id, "username": u.username, "email": u.email, "enabled": true, "emailVerified": true, "createdTimestamp": 1735700000000, "notBefore": u.notBefore}
}

func (s *Server) listUsers(r *http.Request, _ any) fakekit.Answer {
	q := r.URL.Query()
	exact := q.Get("exact") == "true"
	match := func(have, want string) bool {
		if want == "" {
			return true
		}
		if exact {
			return strings.EqualFold(have, want)
		}
		return strings.Contains(strings.ToLower(have), strings.ToLower(want))
	}
	out := []map[string]any{}
	for _, u := range s.users {
		if match(u.username, q.Get("username")) && match(u.email, q.Get("email")) {
			out = append(out, userRep(u))
		}
	}
	return js(http.StatusOK, out)
}

// userAnswer finds the user of the path first: an unknown one is 404 on
// every user endpoint.
func (s *Server) userAnswer(next func(*http.Request, *user) fakekit.Answer) func(*http.Request, any) fakekit.Answer {
	return func(r *http.Request, _ any) fakekit.Answer {
		u := s.user(r.PathValue("id"))
		if u == nil {
			return notFound("User not found")
		}
		return next(r, u)
	}
}

func (s *Server) getUser(_ *http.Request, u *user) fakekit.Answer {
	return js(http.StatusOK, userRep(u))
}

func (s *Server) userSessions(_ *http.Request, u *user) fakekit.Answer {
	out := []map[string]any{}
	for _, ss := range s.sessions {
		if ss.userID != u.id {
			continue
		}
		clients := map[string]string{}
		for _, c := range ss.clients {
			if rep, ok := s.clients[c]; ok {
				clients[c] = rep["clientId"].(string)
			}
		}
		out = append(out, map[string]any{"id": ss.id, "username": u.username, "userId": u.id, "ipAddress": "127.0.0.1",
			"start": 1735700000000, "lastAccess": 1735700100000, "rememberMe": false, "clients": clients, "transientUser": false})
	}
	return js(http.StatusOK, out)
}

func (s *Server) userConsents(_ *http.Request, u *user) fakekit.Answer {
	out := []map[string]any{}
	names := make([]string, 0, len(s.grants[u.id]))
	for c := range s.grants[u.id] {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		g := s.grants[u.id][c]
		uuid, _ := s.clientByClientID(c)
		rep := map[string]any{"clientId": c, "grantedClientScopes": []string{}, "createdDate": nil, "lastUpdatedDate": nil, "additionalGrants": []any{}}
		if g.consent {
			rep["grantedClientScopes"] = []string{"profile", "email"}
			rep["createdDate"], rep["lastUpdatedDate"] = 1735700000000, 1735700000000
		}
		if g.offline {
			rep["additionalGrants"] = []any{map[string]string{"client": uuid, "key": "Offline Token"}}
		}
		out = append(out, rep)
	}
	return js(http.StatusOK, out)
}

func (s *Server) revokeConsent(r *http.Request, u *user) fakekit.Answer {
	client := r.PathValue("client")
	if uuid, _ := s.clientByClientID(client); uuid == "" {
		if _, isUUID := s.clients[client]; isUUID {
			return s.contract(r, "consents are revoked by client_id, not by the client's UUID")
		}
		return notFound("Client not found")
	}
	if s.grants[u.id][client] == nil {
		return notFound("Consent nor offline token not found")
	}
	delete(s.grants[u.id], client)
	return noContent
}

func (s *Server) logout(_ *http.Request, u *user) fakekit.Answer {
	u.notBefore = time.Now().Unix()
	kept := s.sessions[:0]
	for _, ss := range s.sessions {
		if ss.userID != u.id {
			kept = append(kept, ss)
		}
	}
	s.sessions = kept
	return noContent
}

func (s *Server) deleteSession(r *http.Request, _ any) fakekit.Answer {
	for i, ss := range s.sessions {
		if ss.id == r.PathValue("id") {
			s.sessions = append(s.sessions[:i:i], s.sessions[i+1:]...)
			return noContent
		}
	}
	return notFound("Sesssion not found")
}

func (s *Server) listClients(r *http.Request, _ any) fakekit.Answer {
	q := r.URL.Query()
	var all []map[string]any
	for _, id := range s.clientIDs {
		if c := s.clients[id]; q.Get("clientId") == "" || c["clientId"] == q.Get("clientId") {
			all = append(all, c)
		}
	}
	first, _ := strconv.Atoi(q.Get("first"))
	limit := len(all)
	if v := q.Get("max"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	first = min(first, len(all))
	out := all[first:min(first+limit, len(all))]
	if out == nil {
		out = []map[string]any{}
	}
	return js(http.StatusOK, out)
}

func (s *Server) getClient(r *http.Request, _ any) fakekit.Answer {
	c, ok := s.clients[r.PathValue("id")]
	if !ok {
		return notFound("Could not find client")
	}
	return js(http.StatusOK, c)
}

// putClient replaces the stored representation with what was sent.
func (s *Server) putClient(r *http.Request, body any) fakekit.Answer {
	id := r.PathValue("id")
	if _, ok := s.clients[id]; !ok {
		return notFound("Could not find client")
	}
	rep := plain(body)
	if got, ok := rep["id"].(string); ok && got != id {
		return s.contract(r, "the body's id %q is not the client in the path", got)
	}
	if _, ok := rep["clientId"].(string); !ok {
		return s.contract(r, "the client representation lacks clientId: send back the whole representation")
	}
	if attrs, ok := rep["attributes"].(map[string]any); ok {
		for k, v := range attrs {
			if _, isStr := v.(string); !isStr {
				return js(http.StatusBadRequest, map[string]string{"errorMessage": fmt.Sprintf("attribute %s is not a string", k)})
			}
		}
		for _, k := range s.lose {
			delete(attrs, k)
		}
	}
	rep["id"] = id
	s.clients[id] = rep
	return noContent
}

// plain turns a decoded body (numbers as json.Number) into the plain JSON
// values the fake stores.
func plain(body any) map[string]any {
	var out map[string]any
	b, _ := json.Marshal(body)
	_ = json.Unmarshal(b, &out)
	return out
}

func status(kp *keyProvider) string {
	cfg, _ := kp.rep["config"].(map[string]any)
	first := func(k string) string {
		if v, ok := cfg[k].([]any); ok && len(v) == 1 {
			if s, ok := v[0].(string); ok {
				return s
			}
		}
		return ""
	}
	switch {
	case first("enabled") == "false":
		return "DISABLED"
	case first("active") == "false":
		return "PASSIVE"
	default:
		return "ACTIVE"
	}
}

func configValue(kp *keyProvider, k string) string {
	cfg, _ := kp.rep["config"].(map[string]any)
	if v, ok := cfg[k].([]any); ok && len(v) == 1 {
		s, _ := v[0].(string)
		return s
	}
	return ""
}

func (s *Server) sortedProviders() []*keyProvider {
	out := make([]*keyProvider, 0, len(s.providers))
	for _, kp := range s.providers {
		out = append(out, kp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rep["id"].(string) < out[j].rep["id"].(string) })
	return out
}

func use(kp *keyProvider) string {
	if kp.rep["providerId"] == "rsa-enc-generated" {
		return "ENC"
	}
	return "SIG"
}

// keys serves KeysMetadataRepresentation: never private keys.
func (s *Server) keys(*http.Request, any) fakekit.Answer {
	active := map[string]string{}
	best := map[string]int{}
	var keys []map[string]any
	for _, kp := range s.sortedProviders() {
		prio, _ := strconv.Atoi(configValue(kp, "priority"))
		alg := configValue(kp, "algorithm")
		st := status(kp)
		if st == "ACTIVE" {
			if b, ok := best[alg]; !ok || prio > b {
				best[alg], active[alg] = prio, kp.kid
			}
		}
		der, _ := x509.MarshalPKIXPublicKey(&kp.key.PublicKey)
		keys = append(keys, map[string]any{
			"providerId": kp.rep["id"], "providerPriority": prio, "kid": kp.kid, "status": st, "type": "RSA",
			"algorithm": alg, "publicKey": base64.StdEncoding.EncodeToString(der), "certificate": "MIIC" + kp.kid,
			"use": use(kp), "validTo": 1893456000000,
		})
	}
	return js(http.StatusOK, map[string]any{"active": active, "keys": keys})
}

// certs serves the realm JWKS: enabled keys (active and passive), public
// members only.
func (s *Server) certs(*http.Request, any) fakekit.Answer {
	keys := []map[string]any{}
	for _, kp := range s.sortedProviders() {
		if status(kp) == "DISABLED" {
			continue
		}
		jwk := fakekit.PublicMembers(&kp.key.PublicKey)
		jwk["kid"], jwk["kty"], jwk["alg"], jwk["use"] = kp.kid, "RSA", configValue(kp, "algorithm"), strings.ToLower(use(kp))
		keys = append(keys, jwk)
	}
	return js(http.StatusOK, map[string]any{"keys": keys})
}

var providerAlgs = map[string]map[string]bool{
	"rsa-generated":     {"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true},
	"rsa-enc-generated": {"RSA-OAEP": true, "RSA-OAEP-256": true, "RSA1_5": true},
}

func (s *Server) addComponent(r *http.Request, body any) fakekit.Answer {
	rep := plain(body)
	if msg := s.checkComponent(rep, true); msg != "" {
		return s.contract(r, "%s", msg)
	}
	kp := newKeyProvider()
	id := s.nextID()
	rep["id"] = id
	cfg := rep["config"].(map[string]any)
	cfg["privateKey"], cfg["certificate"] = []any{SecretMask}, []any{"MIIC" + kp.kid}
	kp.rep = rep
	s.providers[id] = kp
	return fakekit.Answer{Status: http.StatusCreated, Header: http.Header{"Location": {s.URL + "/admin/realms/" + s.Realm + "/components/" + id}}}
}

func (s *Server) getComponent(r *http.Request, _ any) fakekit.Answer {
	kp, ok := s.providers[r.PathValue("id")]
	if !ok {
		return notFound("Could not find component")
	}
	return js(http.StatusOK, kp.rep)
}

func (s *Server) putComponent(r *http.Request, body any) fakekit.Answer {
	id := r.PathValue("id")
	kp, ok := s.providers[id]
	if !ok {
		return notFound("Could not find component")
	}
	rep := plain(body)
	if rep["id"] != id {
		return s.contract(r, "the body's id is not the component in the path")
	}
	if msg := s.checkComponent(rep, false); msg != "" {
		return s.contract(r, "%s", msg)
	}
	// Masked secrets keep their stored value; everything else is
	// replaced by what was sent.
	kp.rep = rep
	return noContent
}

// checkComponent validates a key provider representation; "" when fine.
func (s *Server) checkComponent(rep map[string]any, create bool) string {
	providerID, _ := rep["providerId"].(string)
	if providerAlgs[providerID] == nil {
		return fmt.Sprintf("providerId %q is not a generated RSA key provider", providerID)
	}
	if rep["providerType"] != "org.keycloak.keys.KeyProvider" {
		return fmt.Sprintf("providerType %v, want org.keycloak.keys.KeyProvider", rep["providerType"])
	}
	if rep["parentId"] != s.RealmID {
		return fmt.Sprintf("parentId %v is not the realm id %s", rep["parentId"], s.RealmID)
	}
	if name, _ := rep["name"].(string); name == "" {
		return "the component has no name"
	}
	cfg, ok := rep["config"].(map[string]any)
	if !ok {
		return "config is not an object"
	}
	allowed := map[string]bool{"priority": true, "enabled": true, "active": true, "keySize": true, "algorithm": true}
	if !create {
		allowed["privateKey"], allowed["certificate"] = true, true
	}
	for _, need := range []string{"priority", "enabled", "active", "keySize", "algorithm"} {
		if _, ok := cfg[need]; !ok {
			return "config lacks " + need + " (a PUT must send the whole representation)"
		}
	}
	for k, v := range cfg {
		if !allowed[k] {
			return "unexpected config entry " + k
		}
		arr, ok := v.([]any)
		if !ok || len(arr) != 1 {
			return "config " + k + " is not a one-element array"
		}
		if _, ok := arr[0].(string); !ok {
			return "config " + k + " is not a string"
		}
	}
	if !create && (cfg["privateKey"] == nil || cfg["privateKey"].([]any)[0] != SecretMask) {
		return "the masked privateKey was not sent back as read"
	}
	alg := cfg["algorithm"].([]any)[0].(string)
	if !providerAlgs[providerID][alg] {
		return fmt.Sprintf("algorithm %s does not fit %s", alg, providerID)
	}
	if _, err := strconv.Atoi(cfg["priority"].([]any)[0].(string)); err != nil {
		return "priority is not a number"
	}
	return ""
}

func newKeyProvider() *keyProvider {
	kid := make([]byte, 16)
	rand.Read(kid)
	return &keyProvider{key: fakekit.NewRSAKey(), kid: base64.RawURLEncoding.EncodeToString(kid)}
}
