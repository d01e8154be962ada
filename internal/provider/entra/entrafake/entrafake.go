// Package entrafake is a contract fake of the Microsoft Graph v1.0 and
// identity platform endpoints idpctl's entra adapter calls, built as a
// route table from the Microsoft Graph v1.0 OpenAPI description
// (msgraph-metadata openapi/v1.0/openapi.yaml) and the identity platform's
// client credentials reference:
//
//   - POST /{tenant}/oauth2/v2.0/token (client_credentials, secret in the
//     form or a client assertion), answering {"token_type","expires_in","access_token"};
//   - user, servicePrincipal, application lookups (by id, UPN, $filter on
//     mail, and the appId alternate key), answering 404
//     Request_ResourceNotFound for what does not exist;
//   - users/{id}/revokeSignInSessions answering {"value":true}, after which
//     the user's refresh tokens are dead;
//   - oauth2PermissionGrants listing (with @odata.nextLink paging) and
//     deletion;
//   - tokenLifetimePolicies: create (201), update (204), appliesTo, and the
//     $ref assignment and removal on applications (one policy per app).
//
// Errors take Graph's shape {"error":{"code","message","innerError":{...}}};
// throttling is 429 with Retry-After, as Graph documents.
package entrafake

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idpctl/idpctl/internal/provider/fakekit"
)

// Doc is cited in contract failures.
const Doc = "Microsoft Graph v1.0 OpenAPI description (msgraph-metadata openapi/v1.0)"

// User is a directory user.
type User struct{ ID, UPN, Mail string }

// Grant is a delegated permission grant.
type Grant struct{ ID, ClientID, ConsentType, PrincipalID, Scope string }

// App is an application registration with its service principal.
type App struct{ ID, AppID, SPID, Name string }

// Policy is a token lifetime policy.
type Policy struct {
	ID, Name   string
	Definition string
	OrgDefault bool
	AppliesTo  []string // application object ids
}

// Fake is one tenant.
type Fake struct {
	fakekit.Loopback
	*fakekit.Mux
	Tenant, ClientID, ClientSecret string
	// Certificate, when set, is the admin app's registered certificate:
	// a client assertion must name it by x5t#S256 and be signed by its key.
	Certificate *x509.Certificate
	// PageSize bounds list answers, to exercise @odata.nextLink.
	PageSize int

	mu        sync.Mutex
	token     string
	users     []User
	revoked   map[string]int
	grants    []Grant
	apps      []App
	policies  []Policy
	seq       int
	tokenHits int
}

// New starts a tenant accepting the admin app's client credentials.
func New(t testing.TB, tenant, clientID, secret string) *Fake {
	f := &Fake{Tenant: tenant, ClientID: clientID, ClientSecret: secret, token: "graph-token-" + tenant, revoked: map[string]int{}, PageSize: 100}
	auth := map[string]string{"Authorization": "Bearer " + f.token}
	sel := []string{"$select"}
	obj := func(props map[string]*fakekit.Schema, req ...string) *fakekit.Schema {
		return &fakekit.Schema{Type: "object", Properties: props, Required: req}
	}
	str := &fakekit.Schema{Type: "string"}
	f.Mux = fakekit.NewMux(t,
		fakekit.Route{Pattern: "GET /v1.0/users/{id}", Doc: Doc + " (user: get)", Header: auth, OptionalQuery: sel, Answer: f.getUser},
		fakekit.Route{Pattern: "GET /v1.0/users", Doc: Doc + " (user: list, $filter)", Header: auth, Query: map[string]string{"$filter": fakekit.Any}, OptionalQuery: sel, Answer: f.listUsers},
		fakekit.Route{Pattern: "POST /v1.0/users/{id}/revokeSignInSessions", Doc: Doc + " (user: revokeSignInSessions)", Header: auth, Answer: f.revoke},
		fakekit.Route{Pattern: "GET /v1.0/users/{id}/oauth2PermissionGrants", Doc: Doc + " (user: list oauth2PermissionGrants)", Header: auth, OptionalQuery: []string{"$skiptoken"}, Answer: f.listGrants},
		fakekit.Route{Pattern: "DELETE /v1.0/oauth2PermissionGrants/{id}", Doc: Doc + " (oAuth2PermissionGrant: delete)", Header: auth, Answer: f.deleteGrant},
		fakekit.Route{Pattern: "GET /v1.0/{keyed}", Doc: Doc + " (servicePrincipal / application by appId)", Header: auth, OptionalQuery: sel, Answer: f.byAppID},
		fakekit.Route{Pattern: "GET /v1.0/applications", Doc: Doc + " (application: list)", Header: auth, OptionalQuery: sel, Answer: f.listApps},
		fakekit.Route{Pattern: "GET /v1.0/applications/{id}/tokenLifetimePolicies", Doc: Doc + " (application: list tokenLifetimePolicies)", Header: auth, Answer: f.appPolicies},
		fakekit.Route{Pattern: "POST /v1.0/applications/{id}/tokenLifetimePolicies/$ref", Doc: Doc + " (application: assign tokenLifetimePolicy)", Header: auth,
			Body: obj(map[string]*fakekit.Schema{"@odata.id": str}, "@odata.id"), Answer: f.assign},
		fakekit.Route{Pattern: "DELETE /v1.0/applications/{id}/tokenLifetimePolicies/{pid}/$ref", Doc: Doc + " (application: remove tokenLifetimePolicy)", Header: auth, Answer: f.unassign},
		fakekit.Route{Pattern: "GET /v1.0/policies/tokenLifetimePolicies/{pid}/appliesTo", Doc: Doc + " (tokenLifetimePolicy: list appliesTo)", Header: auth, Answer: f.appliesTo},
		fakekit.Route{Pattern: "POST /v1.0/policies/tokenLifetimePolicies", Doc: Doc + " (tokenLifetimePolicy: create)", Header: auth,
			Body: obj(map[string]*fakekit.Schema{"definition": {Type: "array", Items: str}, "displayName": str, "isOrganizationDefault": {Type: "boolean"}}, "definition", "displayName"), Answer: f.createPolicy},
		fakekit.Route{Pattern: "PATCH /v1.0/policies/tokenLifetimePolicies/{pid}", Doc: Doc + " (tokenLifetimePolicy: update)", Header: auth,
			Body: obj(map[string]*fakekit.Schema{"definition": {Type: "array", Items: str}}, "definition"), Answer: f.updatePolicy},
		fakekit.Route{Pattern: "GET /{tenant}/v2.0/.well-known/openid-configuration", Doc: "Microsoft identity platform OpenID Connect metadata", Answer: f.discovery},
		fakekit.Route{Pattern: "GET /{tenant}/discovery/v2.0/keys", Doc: "Microsoft identity platform OpenID metadata (jwks_uri)", Answer: f.keys},
	)
	f.Mux.Faults = &fakekit.Faults{
		Body: func(h http.Header, fault fakekit.Fault) any {
			if fault == fakekit.HTMLPage {
				return fakekit.BadGateway()
			}
			return graphError(fault.String(), "fault "+fault.String())
		},
		JSON:       func(w http.ResponseWriter, status int, v any) { fakekit.WriteJSON(w, status, "", v) },
		RetryAfter: "3",
	}
	f.Loopback = fakekit.Serve(http.HandlerFunc(f.serve))
	return f
}

// serve takes the token endpoint (a form body, which the JSON route
// table does not describe) and hands the rest to the mux.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/"+f.Tenant+"/oauth2/v2.0/token" {
		f.tokenEndpoint(w, r)
		return
	}
	f.Mux.ServeHTTP(w, r)
}

// TokenRequests counts admin token requests.
func (f *Fake) TokenRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenHits
}

func (f *Fake) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tokenHits++
	f.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		fakekit.WriteJSON(w, 400, "", map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if r.PostForm.Get("scope") != "https://graph.microsoft.com/.default" && !strings.HasSuffix(r.PostForm.Get("scope"), "/.default") {
		fakekit.WriteJSON(w, 400, "", map[string]string{"error": "invalid_scope", "error_description": "AADSTS1002012: The provided value for scope is not valid."})
		return
	}
	secretOK := r.PostForm.Get("client_id") == f.ClientID && r.PostForm.Get("client_secret") == f.ClientSecret
	assertion := r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && f.checkAssertion(r.PostForm.Get("client_assertion"), "http://"+r.Host+r.URL.Path)
	if !secretOK && !assertion {
		fakekit.WriteJSON(w, 401, "", map[string]string{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
		return
	}
	fakekit.WriteJSON(w, 200, "", map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": f.token})
}

// checkAssertion verifies a certificate credential as the identity
// platform does: the header's x5t#S256 names the registered certificate,
// its key signed the JWT, iss and sub are the client id and aud the token
// endpoint.
func (f *Fake) checkAssertion(raw, endpoint string) bool {
	if f.Certificate == nil || raw == "" {
		return false
	}
	tok, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256})
	if err != nil || len(tok.Signatures) != 1 {
		return false
	}
	sum := sha256.Sum256(f.Certificate.Raw)
	if tok.Signatures[0].Protected.ExtraHeaders["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
		return false
	}
	payload, err := tok.Verify(f.Certificate.PublicKey)
	if err != nil {
		return false
	}
	var c struct{ Iss, Sub, Aud string }
	return json.Unmarshal(payload, &c) == nil && c.Iss == f.ClientID && c.Sub == f.ClientID && c.Aud == endpoint
}

func graphError(code, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]string{"date": "2026-12-03T08:00:00", "request-id": "req-fake", "client-request-id": "req-fake"}}}
}

func notFound(what string) fakekit.Answer {
	return fakekit.Answer{Status: http.StatusNotFound, JSON: graphError("Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", what))}
}

// AddUser, AddApp, AddGrant and AddPolicy set the tenant up.
func (f *Fake) AddUser(u User) { f.mu.Lock(); f.users = append(f.users, u); f.mu.Unlock() }
func (f *Fake) AddApp(a App)   { f.mu.Lock(); f.apps = append(f.apps, a); f.mu.Unlock() }
func (f *Fake) AddGrant(g Grant) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.grants = append(f.grants, g)
}
func (f *Fake) AddPolicy(p Policy) { f.mu.Lock(); f.policies = append(f.policies, p); f.mu.Unlock() }

// Revocations is how often a user's sessions were revoked.
func (f *Fake) Revocations(userID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revoked[userID]
}

// Grants lists the live grants.
func (f *Fake) Grants() []Grant {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Grant(nil), f.grants...)
}

// Policies lists the policies.
func (f *Fake) Policies() []Policy {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Policy, len(f.policies))
	for i, p := range f.policies {
		p.AppliesTo = append([]string(nil), p.AppliesTo...)
		out[i] = p
	}
	return out
}

func (f *Fake) findUser(key string) *User {
	for i, u := range f.users {
		// Graph addresses a user by object id or by UPN, without regard to case.
		if u.ID == key || strings.EqualFold(u.UPN, key) {
			return &f.users[i]
		}
	}
	return nil
}

func userJSON(u User) map[string]any {
	return map[string]any{"id": u.ID, "userPrincipalName": u.UPN, "mail": u.Mail}
}

func (f *Fake) getUser(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.findUser(r.PathValue("id")); u != nil {
		return fakekit.Answer{JSON: userJSON(*u)}
	}
	return notFound(r.PathValue("id"))
}

func (f *Fake) listUsers(r *http.Request, _ any) fakekit.Answer {
	filter := r.URL.Query().Get("$filter")
	mail, ok := strings.CutPrefix(filter, "mail eq '")
	if !ok || !strings.HasSuffix(mail, "'") {
		return fakekit.Answer{Status: 400, JSON: graphError("Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'mail' of resource 'User'.")}
	}
	mail = strings.ReplaceAll(strings.TrimSuffix(mail, "'"), "''", "'")
	f.mu.Lock()
	defer f.mu.Unlock()
	items := []map[string]any{}
	for _, u := range f.users {
		if strings.EqualFold(u.Mail, mail) {
			items = append(items, userJSON(u))
		}
	}
	return fakekit.Answer{JSON: map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": items}}
}

func (f *Fake) revoke(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.findUser(r.PathValue("id"))
	if u == nil {
		return notFound(r.PathValue("id"))
	}
	f.revoked[u.ID]++
	return fakekit.Answer{JSON: map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": true}}
}

func (f *Fake) listGrants(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.findUser(r.PathValue("id"))
	if u == nil {
		return notFound(r.PathValue("id"))
	}
	var mine []map[string]any
	for _, g := range f.grants {
		if g.PrincipalID == u.ID {
			mine = append(mine, map[string]any{"id": g.ID, "clientId": g.ClientID, "consentType": g.ConsentType, "principalId": g.PrincipalID, "resourceId": "graph-sp", "scope": g.Scope})
		}
	}
	return f.page(r, mine)
}

// page cuts a list to PageSize with a $skiptoken next link.
func (f *Fake) page(r *http.Request, items []map[string]any) fakekit.Answer {
	start := 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		fmt.Sscanf(tok, "%d", &start)
	}
	if items == nil {
		items = []map[string]any{}
	}
	end := min(start+f.PageSize, len(items))
	if start > len(items) {
		start = end
	}
	out := map[string]any{"value": items[start:end]}
	if end < len(items) {
		next := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: url.Values{"$skiptoken": {fmt.Sprint(end)}}.Encode()}
		out["@odata.nextLink"] = next.String()
	}
	return fakekit.Answer{JSON: out}
}

func (f *Fake) deleteGrant(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, g := range f.grants {
		if g.ID == r.PathValue("id") {
			f.grants = append(f.grants[:i], f.grants[i+1:]...)
			return fakekit.Answer{Status: http.StatusNoContent}
		}
	}
	return notFound(r.PathValue("id"))
}

func (f *Fake) byAppID(r *http.Request, _ any) fakekit.Answer {
	keyed := r.PathValue("keyed")
	set, rest, ok := strings.Cut(keyed, "(appId='")
	if !ok || !strings.HasSuffix(rest, "')") || (set != "servicePrincipals" && set != "applications") {
		return fakekit.Answer{Status: 400, JSON: graphError("BadRequest", "Resource not found for the segment '"+keyed+"'.")}
	}
	appID := strings.ReplaceAll(strings.TrimSuffix(rest, "')"), "''", "'")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.apps {
		if a.AppID == appID {
			id := a.ID
			if set == "servicePrincipals" {
				id = a.SPID
			}
			return fakekit.Answer{JSON: map[string]any{"id": id, "appId": a.AppID, "displayName": a.Name}}
		}
	}
	return notFound(appID)
}

func (f *Fake) listApps(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []map[string]any
	for _, a := range f.apps {
		items = append(items, map[string]any{"id": a.ID, "appId": a.AppID, "displayName": a.Name})
	}
	return f.page(r, items)
}

func (f *Fake) app(id string) *App {
	for i, a := range f.apps {
		if a.ID == id {
			return &f.apps[i]
		}
	}
	return nil
}

func policyJSON(p Policy) map[string]any {
	return map[string]any{"id": p.ID, "displayName": p.Name, "isOrganizationDefault": p.OrgDefault, "definition": []string{p.Definition}}
}

func (f *Fake) appPolicies(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.app(r.PathValue("id")) == nil {
		return notFound(r.PathValue("id"))
	}
	items := []map[string]any{}
	for _, p := range f.policies {
		for _, a := range p.AppliesTo {
			if a == r.PathValue("id") {
				items = append(items, policyJSON(p))
			}
		}
	}
	return fakekit.Answer{JSON: map[string]any{"value": items}}
}

func (f *Fake) policy(id string) *Policy {
	for i, p := range f.policies {
		if p.ID == id {
			return &f.policies[i]
		}
	}
	return nil
}

func (f *Fake) appliesTo(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.policy(r.PathValue("pid"))
	if p == nil {
		return notFound(r.PathValue("pid"))
	}
	items := []map[string]any{}
	for _, id := range p.AppliesTo {
		name := id
		if a := f.app(id); a != nil {
			name = a.Name
		}
		items = append(items, map[string]any{"@odata.type": "#microsoft.graph.application", "id": id, "displayName": name})
	}
	return fakekit.Answer{JSON: map[string]any{"value": items}}
}

// validDefinition checks a definition as Graph does: one JSON string
// holding a TokenLifetimePolicy.
func validDefinition(v any) bool {
	list, ok := v.([]any)
	if !ok || len(list) != 1 {
		return false
	}
	s, _ := list[0].(string)
	var d map[string]map[string]any
	return json.Unmarshal([]byte(s), &d) == nil && d["TokenLifetimePolicy"] != nil
}

func (f *Fake) createPolicy(r *http.Request, body any) fakekit.Answer {
	m := body.(map[string]any)
	if !validDefinition(m["definition"]) {
		return fakekit.Answer{Status: 400, JSON: graphError("Request_BadRequest", "Invalid value specified for property 'definition' of resource 'TokenLifetimePolicy'.")}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	p := Policy{ID: fmt.Sprintf("policy-%d", f.seq), Name: m["displayName"].(string), Definition: m["definition"].([]any)[0].(string)}
	f.policies = append(f.policies, p)
	return fakekit.Answer{Status: http.StatusCreated, JSON: policyJSON(p)}
}

func (f *Fake) updatePolicy(r *http.Request, body any) fakekit.Answer {
	m := body.(map[string]any)
	if !validDefinition(m["definition"]) {
		return fakekit.Answer{Status: 400, JSON: graphError("Request_BadRequest", "Invalid value specified for property 'definition' of resource 'TokenLifetimePolicy'.")}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.policy(r.PathValue("pid"))
	if p == nil {
		return notFound(r.PathValue("pid"))
	}
	p.Definition = m["definition"].([]any)[0].(string)
	return fakekit.Answer{Status: http.StatusNoContent}
}

func (f *Fake) assign(r *http.Request, body any) fakekit.Answer {
	ref, _ := body.(map[string]any)["@odata.id"].(string)
	i := strings.LastIndex(ref, "/policies/tokenLifetimePolicies/")
	f.mu.Lock()
	defer f.mu.Unlock()
	if i < 0 || !strings.HasPrefix(ref, "http") {
		return fakekit.Answer{Status: 400, JSON: graphError("Request_BadRequest", "Invalid object identifier '"+ref+"'.")}
	}
	app := f.app(r.PathValue("id"))
	p := f.policy(ref[i+len("/policies/tokenLifetimePolicies/"):])
	if app == nil || p == nil {
		return notFound(ref)
	}
	for _, q := range f.policies {
		for _, a := range q.AppliesTo {
			if a == app.ID {
				// One token lifetime policy per application.
				return fakekit.Answer{Status: 400, JSON: graphError("Request_BadRequest", "A conflicting object with one or more of the specified property values is present in the directory.")}
			}
		}
	}
	p.AppliesTo = append(p.AppliesTo, app.ID)
	sort.Strings(p.AppliesTo)
	return fakekit.Answer{Status: http.StatusNoContent}
}

func (f *Fake) unassign(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.policy(r.PathValue("pid"))
	if p == nil {
		return notFound(r.PathValue("pid"))
	}
	for i, a := range p.AppliesTo {
		if a == r.PathValue("id") {
			p.AppliesTo = append(p.AppliesTo[:i], p.AppliesTo[i+1:]...)
			return fakekit.Answer{Status: http.StatusNoContent}
		}
	}
	return notFound(r.PathValue("id"))
}

func (f *Fake) discovery(r *http.Request, _ any) fakekit.Answer {
	base := "http://" + r.Host + "/" + f.Tenant
	return fakekit.Answer{JSON: map[string]any{
		"issuer": base + "/v2.0", "authorization_endpoint": base + "/oauth2/v2.0/authorize", "token_endpoint": base + "/oauth2/v2.0/token",
		"jwks_uri": base + "/discovery/v2.0/keys", "response_types_supported": []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported": []string{"pairwise"}, "id_token_signing_alg_values_supported": []string{"RS256"},
	}}
}

func (f *Fake) keys(r *http.Request, _ any) fakekit.Answer {
	if r.PathValue("tenant") != f.Tenant {
		return fakekit.Answer{Status: 400, JSON: map[string]string{"error": "invalid_tenant"}}
	}
	if r.Header.Get("Authorization") != "" {
		return fakekit.Answer{Status: 400, JSON: map[string]string{"error": "the JWKS is public: no credential belongs on this request"}}
	}
	return fakekit.Answer{JSON: map[string]any{"keys": []map[string]any{
		{"kty": "RSA", "use": "sig", "kid": "tenant-key-1", "x5t": "tenant-key-1", "n": "AQAB", "e": "AQAB", "issuer": "https://login.microsoftonline.com/" + f.Tenant + "/v2.0"},
		{"kty": "RSA", "use": "sig", "kid": "tenant-key-2", "x5t": "tenant-key-2", "n": "AQAB", "e": "AQAB"},
	}}}
}
