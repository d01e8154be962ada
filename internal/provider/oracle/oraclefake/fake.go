// Package oraclefake is a contract fake of the Oracle identity domains
// (IDCS) admin API, for tests of the oracle adapter and end-to-end tests
// of the binary. It serves the documented requests and responses of the
// calls the adapter makes (see the oracle package comment for sources),
// holds state (users, apps, grants, signing keys, admin tokens), and is a
// fakekit route table: each route declares its method, path, query,
// headers and body schema and cites the REST endpoint page; a request
// outside the contract fails the test, is answered with HTTP 418 and is
// recorded for Errors.
//
// Behaviour that follows the vendor's documents: SCIM list responses and
// filters (eq, and, or, parentheses) restricted to idcsSearchable
// attributes; the "attributes" parameter (id and schemas always returned,
// displayName too for Apps); clientSecret returned on App reads that do not
// name their attributes; SCIM PATCH changing only the named paths and
// answering with the whole App; SCIM error documents; the opc-request-id
// header; client-credentials admin tokens at /oauth2/v1/token.
package oraclefake

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/fakekit"
)

// Schema URNs.
const (
	SchemaUser              = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaApp               = "urn:ietf:params:scim:schemas:oracle:idcs:App"
	SchemaGrant             = "urn:ietf:params:scim:schemas:oracle:idcs:Grant"
	SchemaUserStatusChanger = "urn:ietf:params:scim:schemas:oracle:idcs:UserStatusChanger"
	SchemaPatchOp           = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaListResponse      = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaError             = "urn:ietf:params:scim:api:messages:2.0:Error"
	// AdminScope is the scope the token endpoint requires.
	AdminScope = "urn:opc:idm:__myscopes__"
)

// Failure is an error answer a test asks for.
type Failure = fakekit.Fault

const (
	FailNone Failure = 0
	Fail401          = fakekit.Unauthorized // SCIM error, 401
	Fail403          = fakekit.Forbidden    // SCIM error, 403
	Fail429          = fakekit.RateLimited  // SCIM error, 429 with Retry-After: 2
	Fail500          = fakekit.ServerError  // SCIM error, 500
	FailHTML         = fakekit.HTMLPage     // an HTML error page from a proxy, 502
)

// Request is what reached the fake.
type Request struct {
	fakekit.Request
	ContentType string
}

// App describes an app to add.
type App struct {
	DisplayName        string
	Name               string // the client id
	IsOAuthClient      bool
	IsOAuthResource    bool
	AllowOffline       bool
	AccessTokenExpiry  int64 // seconds; 0 leaves it unset
	RefreshTokenExpiry int64 // seconds; 0 leaves it unset
	ClientSecret       string
	RedirectURIs       []string
}

// Server is the fake. Its zero value is not usable: call New. Its URL is
// the domain URL (http://127.0.0.1:port).
type Server struct {
	fakekit.Loopback
	// ClientID and ClientSecret authenticate the admin client at the
	// token endpoint.
	ClientID, ClientSecret string

	t      testing.TB
	mux    *fakekit.Mux
	faults fakekit.Faults

	mu     sync.Mutex
	seq    int
	users  map[string]map[string]any
	apps   map[string]map[string]any
	grants map[string]map[string]any
	keys   []map[string]any
	tokens map[string]bool
	issued int
}

// New starts a fake on a loopback port with one signing key; a broken
// contract fails t.
func New(t testing.TB) *Server {
	s := &Server{
		t:            t,
		ClientID:     "idpctl-admin",
		ClientSecret: "fake-admin-client-secret",
		users:        map[string]map[string]any{},
		apps:         map[string]map[string]any{},
		grants:       map[string]map[string]any{},
		tokens:       map[string]bool{},
	}
	s.keys = []map[string]any{signingKey("SIGNING_KEY")}
	s.faults = fakekit.Faults{Body: faultBody, JSON: writeJSON, RetryAfter: "2"}
	s.mux = fakekit.NewMux(t, s.routes()...)
	s.Loopback = fakekit.Serve(http.HandlerFunc(s.serve))
	return s
}

func signingKey(kid string) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "alg": "RS256", "e": "AQAB", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "x5t": "ZmFrZS10aHVtYnByaW50", "x5c": []string{"ZmFrZS1jZXJ0aWZpY2F0ZQ"}, "key_ops": []string{"verify"}}
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%04d", prefix, s.seq)
}

// AddUser adds a user and returns its id.
func (s *Server) AddUser(userName string, active bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("u")
	s.users[id] = map[string]any{
		"schemas":  []any{SchemaUser},
		"id":       id,
		"userName": userName,
		"active":   active,
		"emails":   []any{map[string]any{"value": userName + "@example.com", "primary": true}},
	}
	return id
}

// UserActive reports a user's active flag; ok is false for unknown ids.
func (s *Server) UserActive(id string) (active, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return false, false
	}
	a, _ := u["active"].(bool)
	return a, true
}

// RemoveUser deletes a user, as if another admin did.
func (s *Server) RemoveUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
}

// AddApp adds an app and returns its id.
func (s *Server) AddApp(a App) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("a")
	m := map[string]any{
		"schemas":         []any{SchemaApp},
		"id":              id,
		"displayName":     a.DisplayName,
		"name":            a.Name,
		"isOAuthClient":   a.IsOAuthClient,
		"isOAuthResource": a.IsOAuthResource,
		"allowOffline":    a.AllowOffline,
		"active":          true,
		"basedOnTemplate": map[string]any{"value": "CustomWebAppTemplateId"},
	}
	if a.AccessTokenExpiry != 0 {
		m["accessTokenExpiry"] = float64(a.AccessTokenExpiry)
	}
	if a.RefreshTokenExpiry != 0 {
		m["refreshTokenExpiry"] = float64(a.RefreshTokenExpiry)
	}
	if a.ClientSecret != "" {
		m["clientSecret"] = a.ClientSecret
	}
	if len(a.RedirectURIs) > 0 {
		uris := make([]any, len(a.RedirectURIs))
		for i, u := range a.RedirectURIs {
			uris[i] = u
		}
		m["redirectUris"] = uris
	}
	s.apps[id] = m
	return id
}

// AppAttr returns an attribute of an app as JSON would decode it (numbers
// are float64); nil when absent.
func (s *Server) AppAttr(id, attr string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.apps[id]; ok {
		return a[attr]
	}
	return nil
}

// AddGrant grants an app to a user with the given grantMechanism
// (ADMINISTRATOR_TO_USER, GROUP_MEMBERSHIP, ...) and returns its id.
func (s *Server) AddGrant(userID, appID, mechanism string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("g")
	display, _ := s.apps[appID]["displayName"].(string)
	s.grants[id] = map[string]any{
		"schemas":        []any{SchemaGrant},
		"id":             id,
		"grantMechanism": mechanism,
		"grantee":        map[string]any{"value": userID, "type": "User"},
		"app":            map[string]any{"value": appID, "display": display},
	}
	return id
}

// AddAppRoleGrant grants an app role to a user, as identity domains store
// it: a Grant whose entitlement is {attributeName: "appRoles",
// attributeValue: <AppRole id>} on the role's app (Grant schema
// urn:ietf:params:scim:schemas:oracle:idcs:Grant, attribute entitlement;
// the OCI SDK model GrantEntitlement). Administrator roles such as
// "Identity Domain Administrator" are app roles of the domain's own app,
// granted this way. It returns the grant's id.
func (s *Server) AddAppRoleGrant(userID, appID, roleID, mechanism string) string {
	id := s.AddGrant(userID, appID, mechanism)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants[id]["entitlement"] = map[string]any{"attributeName": "appRoles", "attributeValue": roleID}
	return id
}

// Grants lists the ids of the grants that remain, sorted.
func (s *Server) Grants() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.grants))
	for id := range s.grants {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// AddKey publishes another signing key.
func (s *Server) AddKey(kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, signingKey(kid))
}

// FailNext makes the next n admin requests with that method (any method
// when empty) answer with f.
func (s *Server) FailNext(method string, f Failure, n int) {
	if n > 0 {
		s.faults.Inject(fakekit.Injection{Method: method, Fault: f, Times: n})
	}
}

// ExpireAdminTokens invalidates every admin token issued so far, so the
// next admin call answers 401.
func (s *Server) ExpireAdminTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

// TokensIssued counts successful client-credentials grants.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Requests returns what reached the fake, in order.
func (s *Server) Requests() []Request {
	var out []Request
	for _, r := range s.mux.Requests() {
		out = append(out, Request{Request: r, ContentType: r.Header.Get("Content-Type")})
	}
	return out
}

// AdminRequests returns the requests other than token requests.
func (s *Server) AdminRequests() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Path != "/oauth2/v1/token" {
			out = append(out, r)
		}
	}
	return out
}

// Errors returns every contract violation seen.
func (s *Server) Errors() []string { return s.mux.Violations() }

// violate records a breach no route field expresses and fails the test.
func (s *Server) violate(format string, args ...any) string {
	msg := s.mux.Violate(format, args...)
	s.t.Errorf("oraclefake: contract violation: %s (%s)", msg, Doc)
	return msg
}

// fail answers a breach of the contract.
func (s *Server) fail(format string, args ...any) fakekit.Answer {
	return fakekit.Answer{Status: http.StatusTeapot, ContentType: "text/plain", Text: "oraclefake: " + s.violate(format, args...)}
}

// failTo writes fail's answer, for requests the route table never sees.
func (s *Server) failTo(w http.ResponseWriter, format string, args ...any) {
	fakekit.WriteText(w, http.StatusTeapot, "text/plain", "oraclefake: "+s.violate(format, args...))
}

// Doc is the document the routes are built from.
const Doc = "Oracle identity domains REST API (docs.oracle.com/en/cloud/paas/iam-domains-rest-api)"

// routes is the contract: the identity domains endpoints the adapter
// calls, each citing its REST endpoint page.
func (s *Server) routes() []fakekit.Route {
	admin := map[string]string{"Authorization": "Bearer *", "Accept": "application/json*"}
	scim := []string{"filter", "attributes", "count", "startIndex"}
	strs := func(enum ...string) *fakekit.Schema {
		return &fakekit.Schema{Type: "array", Items: &fakekit.Schema{Type: "string", Enum: enum}}
	}
	paths := make([]string, 0, len(patchable))
	for k := range patchable {
		paths = append(paths, k)
	}
	sort.Strings(paths)
	return []fakekit.Route{
		{Pattern: "GET /admin/v1/Users", Doc: Doc + ": Users REST Endpoints (search)", Header: admin, OptionalQuery: scim,
			Answer: s.searchOf(s.users, searchable{"id": false, "userName": false, "active": false}, nil)},
		{Pattern: "PUT /admin/v1/UserStatusChanger/{id}", Doc: Doc + ": User Status Changer REST Endpoints", Header: admin,
			Body: &fakekit.Schema{Type: "object", Required: []string{"active", "schemas"}, Properties: map[string]*fakekit.Schema{
				"active": {Type: "boolean"}, "schemas": strs(SchemaUserStatusChanger)}},
			Answer: s.putUserStatus},
		{Pattern: "GET /admin/v1/Apps", Doc: Doc + ": Apps REST Endpoints (search)", Header: admin, OptionalQuery: scim,
			Answer: s.searchOf(s.apps, searchable{"id": false, "name": false, "displayName": false, "isOAuthClient": false}, []string{"displayName"})},
		{Pattern: "GET /admin/v1/Apps/{id}", Doc: Doc + ": Get an App", Header: admin, OptionalQuery: []string{"attributes"}, Answer: s.getApp},
		{Pattern: "PATCH /admin/v1/Apps/{id}", Doc: Doc + ": Update an App", Header: admin, OptionalQuery: []string{"attributes"},
			Body: &fakekit.Schema{Type: "object", Required: []string{"schemas", "Operations"}, Properties: map[string]*fakekit.Schema{
				"schemas": strs(SchemaPatchOp),
				"Operations": {Type: "array", Items: &fakekit.Schema{Type: "object", Required: []string{"op", "path", "value"}, AllowExtra: true,
					Properties: map[string]*fakekit.Schema{"op": {Type: "string"}, "path": {Type: "string", Enum: paths}}}},
			}},
			Answer: s.patchApp},
		{Pattern: "GET /admin/v1/Grants", Doc: Doc + ": Grants REST Endpoints (search)", Header: admin, OptionalQuery: scim,
			Answer: s.searchOf(s.grants, searchable{"id": false, "grantee.value": true, "grantee.type": true, "app.value": true, "grantMechanism": true}, nil)},
		{Pattern: "DELETE /admin/v1/Grants/{id}", Doc: Doc + ": Grants REST Endpoints (delete)", Header: admin, Answer: s.deleteGrant},
		{Pattern: "GET /admin/v1/SigningCert/jwk", Doc: Doc + ": Signing Certificates JWK REST Endpoints", Header: admin, Answer: s.jwk},
	}
}

// serve takes the token endpoint (a form, outside the table) itself,
// checks the admin token and serves scheduled faults before the routes.
// Every answer carries opc-request-id.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Opc-Request-Id", fmt.Sprintf("fake-req-%d", len(s.mux.Requests())+1))
	if r.URL.Path == "/oauth2/v1/token" {
		req := fakekit.Capture(r)
		s.mux.Record(req)
		s.token(w, r, req.Body)
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case !strings.EqualFold(scheme, "Bearer"):
		s.mux.Record(fakekit.Capture(r))
		s.failTo(w, "%s %s: admin calls need a Bearer token, got %q", r.Method, r.URL.Path, scheme)
		return
	case !s.tokens[tok]:
		s.mux.Record(fakekit.Capture(r))
		s.faults.Answer(w, fakekit.Injection{Fault: Fail401})
		return
	}
	if in, ok := s.faults.Take(r); ok {
		s.mux.Record(fakekit.Capture(r))
		s.faults.Answer(w, in)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) jwk(*http.Request, any) fakekit.Answer {
	keys := make([]any, len(s.keys))
	for i, k := range s.keys {
		keys[i] = k
	}
	return js(http.StatusOK, map[string]any{"keys": keys})
}

// faultBody answers faults with SCIM error documents, and a 502 as a
// proxy in front of the domain.
func faultBody(_ http.Header, f Failure) any {
	switch f {
	case Fail401:
		return scimErrorBody(http.StatusUnauthorized, "The access token is invalid or has expired.", "")
	case Fail403:
		return scimErrorBody(http.StatusForbidden, "You do not have the required permissions.", "")
	case Fail429:
		return scimErrorBody(http.StatusTooManyRequests, "Too many requests.", "")
	case Fail500:
		return scimErrorBody(http.StatusInternalServerError, "An internal error occurred.", "")
	}
	return fakekit.Page{ContentType: "text/html", HTML: "<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>"}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		s.failTo(w, "token endpoint: method %s", r.Method)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.failTo(w, "token endpoint: content type %q", r.Header.Get("Content-Type"))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.failTo(w, "token endpoint: unreadable form")
		return
	}
	if form.Get("grant_type") != "client_credentials" || form.Get("scope") != AdminScope {
		s.failTo(w, "token endpoint: want grant_type=client_credentials and scope %s, got grant_type=%q scope=%q", AdminScope, form.Get("grant_type"), form.Get("scope"))
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		s.failTo(w, "token endpoint: the admin client must use client_secret_basic")
		return
	}
	if id != s.ClientID || secret != s.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed."})
		return
	}
	s.issued++
	tok := fmt.Sprintf("fake-admin-token-%d", s.issued)
	s.tokens[tok] = true
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

// searchable maps the idcsSearchable attributes of a resource type to
// whether they compare case-exactly.
type searchable map[string]bool

// searchOf answers a SCIM search (RFC 7644 §3.4.2) over store.
func (s *Server) searchOf(store map[string]map[string]any, attrs searchable, always []string) func(*http.Request, any) fakekit.Answer {
	return func(r *http.Request, _ any) fakekit.Answer { return s.search(r, store, attrs, always) }
}

func (s *Server) search(r *http.Request, store map[string]map[string]any, attrs searchable, always []string) fakekit.Answer {
	q := r.URL.Query()
	count, start := 50, 1
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			return s.fail("%s: count %q is not 0..1000", r.URL.Path, v)
		}
		count = n
	}
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s.fail("%s: startIndex %q is not a positive integer", r.URL.Path, v)
		}
		start = n
	}
	var match func(map[string]any) bool
	if f := q.Get("filter"); f != "" {
		expr, err := parseFilter(f)
		if err != nil {
			s.violate("%s: filter %q: %v", r.URL.Path, f, err)
			return scimError(http.StatusBadRequest, "Invalid filter: "+err.Error(), "invalidFilter")
		}
		if bad := expr.attrs(attrs); bad != "" {
			s.violate("%s: filter on %q, which is not searchable", r.URL.Path, bad)
			return scimError(http.StatusBadRequest, "Attribute "+bad+" is not searchable.", "invalidFilter")
		}
		match = func(m map[string]any) bool { return expr.eval(m, attrs) }
	}
	ids := make([]string, 0, len(store))
	for id, m := range store {
		if match == nil || match(m) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	total := len(ids)
	from := min(start-1, total)
	to := min(from+count, total)
	res := make([]any, 0, to-from)
	for _, id := range ids[from:to] {
		res = append(res, project(store[id], q.Get("attributes"), always))
	}
	return js(http.StatusOK, map[string]any{
		"schemas":      []any{SchemaListResponse},
		"totalResults": total,
		"startIndex":   start,
		"itemsPerPage": count,
		"Resources":    res,
	})
}

// project applies the SCIM "attributes" parameter: id and schemas are
// returned always, and so are the resource type's "always" attributes.
func project(m map[string]any, attributes string, always []string) map[string]any {
	if attributes == "" {
		return fakekit.Clone(m)
	}
	out := map[string]any{"id": m["id"], "schemas": m["schemas"]}
	for _, a := range always {
		if v, ok := m[a]; ok {
			out[a] = v
		}
	}
	for _, a := range strings.Split(attributes, ",") {
		a = strings.TrimSpace(a)
		top, _, _ := strings.Cut(a, ".")
		if v, ok := m[top]; ok {
			out[top] = v
		}
	}
	return fakekit.Clone(out)
}

func (s *Server) putUserStatus(r *http.Request, body any) fakekit.Answer {
	in := body.(map[string]any)
	if len(in["schemas"].([]any)) != 1 {
		return s.fail("UserStatusChanger: body needs schemas [%s]", SchemaUserStatusChanger)
	}
	id := r.PathValue("id")
	u, ok := s.users[id]
	if !ok {
		return scimError(http.StatusNotFound, "Resource "+id+" not found.", "")
	}
	active := in["active"].(bool)
	u["active"] = active
	return js(http.StatusOK, map[string]any{"schemas": []any{SchemaUserStatusChanger}, "id": id, "active": active})
}

func (s *Server) getApp(r *http.Request, _ any) fakekit.Answer {
	id := r.PathValue("id")
	a, ok := s.apps[id]
	if !ok {
		return scimError(http.StatusNotFound, "Resource "+id+" not found.", "")
	}
	return js(http.StatusOK, project(a, r.URL.Query().Get("attributes"), []string{"displayName"}))
}

// patchable are the App attributes this fake lets a PATCH replace
// (readWrite in the App schema).
var patchable = map[string]string{"accessTokenExpiry": "integer", "refreshTokenExpiry": "integer", "allowOffline": "boolean"}

func (s *Server) patchApp(r *http.Request, body any) fakekit.Answer {
	in := body.(map[string]any)
	ops := in["Operations"].([]any)
	if len(in["schemas"].([]any)) != 1 || len(ops) == 0 {
		return s.fail("PATCH Apps: want schemas [%s] and operations", SchemaPatchOp)
	}
	id := r.PathValue("id")
	a, ok := s.apps[id]
	if !ok {
		return scimError(http.StatusNotFound, "Resource "+id+" not found.", "")
	}
	changes := map[string]any{}
	for _, raw := range ops {
		op := raw.(map[string]any)
		verb, _ := op["op"].(string)
		path, _ := op["path"].(string)
		if !strings.EqualFold(verb, "replace") {
			return s.fail("PATCH Apps: unexpected operation %s %s", verb, path)
		}
		v := op["value"]
		switch patchable[path] {
		case "integer":
			n, isInt := fakekit.Int(v)
			if !isInt || n < 0 {
				return scimError(http.StatusBadRequest, "Value of "+path+" must be a non-negative integer.", "invalidValue")
			}
			v = float64(n)
		case "boolean":
			if _, isBool := v.(bool); !isBool {
				return scimError(http.StatusBadRequest, "Value of "+path+" must be a boolean.", "invalidValue")
			}
		}
		changes[path] = v
	}
	for k, v := range changes {
		a[k] = v
	}
	return js(http.StatusOK, project(a, r.URL.Query().Get("attributes"), []string{"displayName"}))
}

func (s *Server) deleteGrant(r *http.Request, _ any) fakekit.Answer {
	id := r.PathValue("id")
	g, ok := s.grants[id]
	if !ok {
		return scimError(http.StatusNotFound, "Resource "+id+" not found.", "")
	}
	if g["grantMechanism"] == "GROUP_MEMBERSHIP" {
		s.violate("DELETE Grants/%s: a grant held through a group was deleted", id)
		return scimError(http.StatusBadRequest, "A grant held through group membership cannot be deleted.", "mutability")
	}
	delete(s.grants, id)
	return fakekit.Answer{Status: http.StatusNoContent}
}

const jsonType = "application/json;charset=UTF-8"

func writeJSON(w http.ResponseWriter, status int, v any) { fakekit.WriteJSON(w, status, jsonType, v) }

// js is a JSON answer of a route.
func js(status int, v any) fakekit.Answer {
	return fakekit.Answer{Status: status, JSON: v, ContentType: jsonType}
}

func scimError(status int, detail, scimType string) fakekit.Answer {
	return js(status, scimErrorBody(status, detail, scimType))
}

func scimErrorBody(status int, detail, scimType string) map[string]any {
	body := map[string]any{
		"schemas": []any{SchemaError},
		"detail":  detail,
		"status":  strconv.Itoa(status),
		"urn:ietf:params:scim:api:oracle:idcs:extension:messages:Error": map[string]any{"messageId": fmt.Sprintf("error.common.fake.status%d", status)},
	}
	if scimType != "" {
		body["scimType"] = scimType
	}
	return body
}
