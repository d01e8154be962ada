// Package keycloakfake is a contract fake of Keycloak's admin REST API for
// one realm, plus the admin token endpoint and the realm's JWKS, built from
// Keycloak's server source (UserResource, RealmAdminResource,
// ClientResource, ComponentResource, KeysMetadataRepresentation,
// KeycloakErrorHandler) and the admin REST API documentation. It keeps
// state (users, sessions, consents and offline tokens, clients, key
// providers and their keys), asserts every request's method, path, query,
// headers and body, and answers anything outside the contract with HTTP 418
// and a recorded error that tests check with Errors.
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

	rec    fakekit.Recorder[Request]
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
// new realm has.
func New(realm string) *Server {
	s := &Server{
		Realm: realm, RealmID: "f3c1e0a4-0000-4000-8000-00000000" + fmt.Sprintf("%04d", len(realm)),
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
func (s *Server) Requests() []Request { return s.rec.Requests() }

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
func (s *Server) Errors() []string { return s.rec.Violations() }

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

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	req := fakekit.Capture(r)
	body := req.Body
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Record(req)

	realmPrefix := "/realms/" + s.Realm
	switch {
	case r.URL.Path == "/realms/master/protocol/openid-connect/token":
		s.token(w, r, body)
		return
	case r.URL.Path == realmPrefix+"/protocol/openid-connect/certs" && r.Method == http.MethodGet:
		s.certs(w)
		return
	}
	adminPrefix := "/admin/realms/" + s.Realm
	if r.URL.Path != adminPrefix && !strings.HasPrefix(r.URL.Path, adminPrefix+"/") {
		s.contract(w, r, "no such endpoint (realm %s)", s.Realm)
		return
	}
	if !s.checkHeaders(w, r, body) || s.faults.Serve(w, r) {
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, adminPrefix)
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if rest == "" {
		parts = nil
	}
	switch {
	case len(parts) == 0 && r.Method == http.MethodGet:
		if s.allowQuery(w, r) {
			writeJSON(w, http.StatusOK, s.realm)
		}
	case len(parts) >= 1 && parts[0] == "users":
		s.handleUsers(w, r, parts[1:], body)
	case len(parts) == 2 && parts[0] == "sessions" && r.Method == http.MethodDelete:
		s.deleteSession(w, r, parts[1])
	case len(parts) >= 1 && parts[0] == "clients":
		s.handleClients(w, r, parts[1:], body)
	case len(parts) == 1 && parts[0] == "keys" && r.Method == http.MethodGet:
		if s.allowQuery(w, r) {
			s.keys(w)
		}
	case len(parts) >= 1 && parts[0] == "components":
		s.components(w, r, parts[1:], body)
	default:
		s.contract(w, r, "no such endpoint")
	}
}

func (s *Server) contract(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	msg := s.rec.Violate("%s %s: %s", r.Method, r.URL.RequestURI(), fmt.Sprintf(format, args...))
	writeJSON(w, http.StatusTeapot, map[string]string{"errorMessage": msg})
}

// token is the master realm's token endpoint for the admin client:
// client_credentials with client_secret_basic or client_secret_post.
func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.contract(w, r, "the token endpoint takes a form POST")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.contract(w, r, "unreadable form")
		return
	}
	if form.Get("grant_type") != "client_credentials" {
		s.contract(w, r, "grant_type %q, want client_credentials", form.Get("grant_type"))
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

func (s *Server) checkHeaders(w http.ResponseWriter, r *http.Request, body []byte) bool {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") {
		s.contract(w, r, "the admin API takes a Bearer token, got %q", strings.SplitN(auth, " ", 2)[0])
		return false
	}
	if !s.tokens[strings.TrimPrefix(auth, "Bearer ")] {
		s.faults.Answer(w, fakekit.Injection{Fault: Unauthorized})
		return false
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/json") {
		s.contract(w, r, "Accept is %q, not application/json", r.Header.Get("Accept"))
		return false
	}
	switch r.Method {
	case http.MethodPut:
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			s.contract(w, r, "Content-Type is %q, not application/json", r.Header.Get("Content-Type"))
			return false
		}
	case http.MethodPost:
		if len(body) > 0 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			s.contract(w, r, "Content-Type is %q, not application/json", r.Header.Get("Content-Type"))
			return false
		}
	default:
		if len(body) > 0 {
			s.contract(w, r, "unexpected body on %s", r.Method)
			return false
		}
	}
	return true
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

// notFound answers as KeycloakErrorHandler does for a NotFoundException
// whose message is not an OAuth error code.
func notFound(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "invalid_request", "error_description": msg})
}

func (s *Server) allowQuery(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	if k, extra := fakekit.ExtraQuery(r, allowed...); extra {
		s.contract(w, r, "unexpected query parameter %q", k)
		return false
	}
	return true
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

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, parts []string, body []byte) {
	if len(parts) == 0 {
		if r.Method != http.MethodGet || !s.allowQuery(w, r, "username", "email", "exact", "first", "max", "briefRepresentation", "search") {
			if r.Method != http.MethodGet {
				s.contract(w, r, "no such endpoint")
			}
			return
		}
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
		writeJSON(w, http.StatusOK, out)
		return
	}
	if !s.allowQuery(w, r) {
		return
	}
	u := s.user(parts[0])
	if u == nil {
		notFound(w, "User not found")
		return
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, userRep(u))
	case len(parts) == 2 && parts[1] == "sessions" && r.Method == http.MethodGet:
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
		writeJSON(w, http.StatusOK, out)
	case len(parts) == 2 && parts[1] == "consents" && r.Method == http.MethodGet:
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
		writeJSON(w, http.StatusOK, out)
	case len(parts) == 3 && parts[1] == "consents" && r.Method == http.MethodDelete:
		if uuid, _ := s.clientByClientID(parts[2]); uuid == "" {
			if _, isUUID := s.clients[parts[2]]; isUUID {
				s.contract(w, r, "consents are revoked by client_id, not by the client's UUID")
				return
			}
			notFound(w, "Client not found")
			return
		}
		if s.grants[u.id][parts[2]] == nil {
			notFound(w, "Consent nor offline token not found")
			return
		}
		delete(s.grants[u.id], parts[2])
		w.WriteHeader(http.StatusNoContent)
	case len(parts) == 2 && parts[1] == "logout" && r.Method == http.MethodPost:
		if len(body) > 0 && strings.TrimSpace(string(body)) != "null" {
			s.contract(w, r, "logout takes no body")
			return
		}
		u.notBefore = time.Now().Unix()
		kept := s.sessions[:0]
		for _, ss := range s.sessions {
			if ss.userID != u.id {
				kept = append(kept, ss)
			}
		}
		s.sessions = kept
		w.WriteHeader(http.StatusNoContent)
	default:
		s.contract(w, r, "no such user endpoint")
	}
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request, id string) {
	if !s.allowQuery(w, r, "isOffline") {
		return
	}
	for i, ss := range s.sessions {
		if ss.id == id {
			s.sessions = append(s.sessions[:i:i], s.sessions[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	notFound(w, "Sesssion not found")
}

func (s *Server) handleClients(w http.ResponseWriter, r *http.Request, parts []string, body []byte) {
	switch {
	case len(parts) == 0 && r.Method == http.MethodGet:
		if !s.allowQuery(w, r, "clientId", "first", "max", "search", "viewableOnly") {
			return
		}
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
		writeJSON(w, http.StatusOK, out)
	case len(parts) == 1 && r.Method == http.MethodGet:
		if !s.allowQuery(w, r) {
			return
		}
		c, ok := s.clients[parts[0]]
		if !ok {
			notFound(w, "Could not find client")
			return
		}
		writeJSON(w, http.StatusOK, c)
	case len(parts) == 1 && r.Method == http.MethodPut:
		if !s.allowQuery(w, r) {
			return
		}
		if _, ok := s.clients[parts[0]]; !ok {
			notFound(w, "Could not find client")
			return
		}
		var rep map[string]any
		if err := json.Unmarshal(body, &rep); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"errorMessage": "unable to read contents from stream"})
			return
		}
		if id, ok := rep["id"].(string); ok && id != parts[0] {
			s.contract(w, r, "the body's id %q is not the client in the path", id)
			return
		}
		if _, ok := rep["clientId"].(string); !ok {
			s.contract(w, r, "the client representation lacks clientId: send back the whole representation")
			return
		}
		if attrs, ok := rep["attributes"].(map[string]any); ok {
			for k, v := range attrs {
				if _, isStr := v.(string); !isStr {
					writeJSON(w, http.StatusBadRequest, map[string]string{"errorMessage": fmt.Sprintf("attribute %s is not a string", k)})
					return
				}
			}
		}
		if attrs, ok := rep["attributes"].(map[string]any); ok {
			for _, k := range s.lose {
				delete(attrs, k)
			}
		}
		rep["id"] = parts[0]
		s.clients[parts[0]] = rep
		w.WriteHeader(http.StatusNoContent)
	default:
		s.contract(w, r, "no such client endpoint")
	}
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
func (s *Server) keys(w http.ResponseWriter) {
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
	writeJSON(w, http.StatusOK, map[string]any{"active": active, "keys": keys})
}

// certs serves the realm JWKS: enabled keys (active and passive), public
// members only.
func (s *Server) certs(w http.ResponseWriter) {
	keys := []map[string]any{}
	for _, kp := range s.sortedProviders() {
		if status(kp) == "DISABLED" {
			continue
		}
		jwk := fakekit.PublicMembers(&kp.key.PublicKey)
		jwk["kid"], jwk["kty"], jwk["alg"], jwk["use"] = kp.kid, "RSA", configValue(kp, "algorithm"), strings.ToLower(use(kp))
		keys = append(keys, jwk)
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

var providerAlgs = map[string]map[string]bool{
	"rsa-generated":     {"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true},
	"rsa-enc-generated": {"RSA-OAEP": true, "RSA-OAEP-256": true, "RSA1_5": true},
}

func (s *Server) components(w http.ResponseWriter, r *http.Request, parts []string, body []byte) {
	if !s.allowQuery(w, r) {
		return
	}
	switch {
	case len(parts) == 0 && r.Method == http.MethodPost:
		var rep map[string]any
		if err := json.Unmarshal(body, &rep); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"errorMessage": "unable to read contents from stream"})
			return
		}
		if msg := s.checkComponent(rep, true); msg != "" {
			s.contract(w, r, "%s", msg)
			return
		}
		kp := newKeyProvider()
		id := s.nextID()
		rep["id"] = id
		cfg := rep["config"].(map[string]any)
		cfg["privateKey"], cfg["certificate"] = []any{SecretMask}, []any{"MIIC" + kp.kid}
		kp.rep = rep
		s.providers[id] = kp
		w.Header().Set("Location", s.URL+"/admin/realms/"+s.Realm+"/components/"+id)
		w.WriteHeader(http.StatusCreated)
	case len(parts) == 1 && r.Method == http.MethodGet:
		kp, ok := s.providers[parts[0]]
		if !ok {
			notFound(w, "Could not find component")
			return
		}
		writeJSON(w, http.StatusOK, kp.rep)
	case len(parts) == 1 && r.Method == http.MethodPut:
		kp, ok := s.providers[parts[0]]
		if !ok {
			notFound(w, "Could not find component")
			return
		}
		var rep map[string]any
		if err := json.Unmarshal(body, &rep); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"errorMessage": "unable to read contents from stream"})
			return
		}
		if rep["id"] != parts[0] {
			s.contract(w, r, "the body's id is not the component in the path")
			return
		}
		if msg := s.checkComponent(rep, false); msg != "" {
			s.contract(w, r, "%s", msg)
			return
		}
		// Masked secrets keep their stored value; everything else is
		// replaced by what was sent.
		kp.rep = rep
		w.WriteHeader(http.StatusNoContent)
	default:
		s.contract(w, r, "no such component endpoint")
	}
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
