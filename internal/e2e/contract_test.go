package e2e

// The contract every admin adapter keeps, checked through the binary
// against each vendor's contract fake (or the embedded sandbox): one row
// per vendor. A new vendor joins with one row; what only that vendor does
// stays in its own test.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider/auth0/auth0fake"
	"github.com/idpctl/idpctl/internal/provider/ciscoucm/ucmfake"
	"github.com/idpctl/idpctl/internal/provider/hydra/hydrafake"
	"github.com/idpctl/idpctl/internal/provider/keycloak/keycloakfake"
	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
	"github.com/idpctl/idpctl/internal/provider/oracle/oraclefake"
	"github.com/idpctl/idpctl/internal/sandbox"
)

// contractIdP is one vendor's IdP (a fake or the sandbox) set up for the
// contract: a profile driving it, users holding tokens, and what the
// vendor answers where vendors differ.
type contractIdP struct {
	// session drives the IdP with the right admin credential.
	session *adminSession
	// wrongSecret is a profile of the same IdP whose admin credential the
	// IdP refuses (401).
	wrongSecret func(t *testing.T) *Env
	// requests counts the admin requests the IdP has received.
	requests func() int
	// users hold tokens; tokens counts what a user still holds (grants,
	// sessions, consents: whatever keeps a token alive).
	users  []string
	tokens func(user string) int
	// revokeArgs are added to every revocation (a vendor without one way
	// to revoke needs --method).
	revokeArgs []string
	// revoked is what a revocation that worked reports: "revoked", or
	// "accepted" where the vendor revokes asynchronously.
	revoked string
	// dryRun are the calls the plan for users[0] names.
	dryRun []string
	// unknown is a user the IdP does not know; unknownResult and
	// unknownSays are what the revocation reports for them.
	unknown, unknownResult, unknownSays string
	// rateLimitNext makes the IdP refuse the next revocation's first
	// request with 429 and Retry-After; hits then counts the requests
	// that reached the refused endpoint.
	rateLimitNext func(t *testing.T)
	hits          func() int
	// unsupported runs a capability the vendor lacks; the exit-7 message
	// must say insteadSays.
	unsupported []string
	insteadSays string
}

func (idp *contractIdP) revokedAs() string {
	if idp.revoked == "" {
		return "revoked"
	}
	return idp.revoked
}

// contractRow is a vendor of the contract table.
type contractRow struct {
	name  string
	start func(t *testing.T) *contractIdP
}

var contractRows = []contractRow{
	{name: "hydra", start: hydraContract},
	{name: "keycloak", start: keycloakContract},
	{name: "oracle", start: oracleContract},
	{name: "auth0", start: auth0Contract},
	{name: "okta", start: oktaContract},
	{name: "cisco-ucm", start: ciscoContract},
	{name: "sandbox", start: sandboxContract},
	{name: "entra", start: entraContract},
	{name: "webex", start: webexContract},
	{name: "google", start: googleContract},
	{name: "cognito", start: cognitoContract},
}

func hydraContract(t *testing.T) *contractIdP {
	f := hydrafake.New(t)
	t.Cleanup(f.Close)
	noViolations(t, "hydra", f.Errors)
	const apiKey = "ory_pat_contractHydraProjectKey0123456789"
	f.RequireToken(apiKey)
	f.AddClient("wiki", nil)
	users := []string{"alice", "bob"}
	for _, u := range users {
		f.AddConsent(u, "wiki")
		f.AddLoginSession(u)
	}
	const consentPath = "/admin/oauth2/auth/sessions/consent"
	return &contractIdP{
		session: &adminSession{provider: "hydra", e: adminEnv(t, "hydra", f.URL, apiKey, viaFile, "url="+f.URL, "auth=bearer")},
		wrongSecret: func(t *testing.T) *Env {
			return adminEnv(t, "hydra", f.URL, "ory_pat_contractWrongKey0123456789", viaFile, "url="+f.URL, "auth=bearer")
		},
		requests: func() int { return len(f.Requests()) },
		users:    users,
		tokens:   func(u string) int { return len(f.Consents(u)) + f.LoginSessions(u) },
		dryRun: []string{
			"GET " + consentPath + "?subject=alice",
			"DELETE " + consentPath + "?all=true&subject=alice",
			"DELETE /admin/oauth2/auth/sessions/login?subject=alice",
		},
		// Hydra keeps no user directory and answers 204 for any subject:
		// the adapter must not claim "user not found", and says why.
		unknown: "nobody-at-all", unknownResult: "nothing to revoke", unknownSays: "no user directory",
		rateLimitNext: func(*testing.T) { f.Fail(http.MethodGet, consentPath, hydrafake.RateLimited, 1) },
		hits: func() int {
			n := 0
			for _, r := range f.Requests() {
				if r.Method == http.MethodGet && r.Path == consentPath && r.Query.Get("subject") == "bob" {
					n++
				}
			}
			return n
		},
		unsupported: []string{"app", "expiry", "set", "wiki", "--refresh-idle", "1h", "--yes"},
		insteadSays: "--refresh-token",
	}
}

func keycloakContract(t *testing.T) *contractIdP {
	f := keycloakfake.New(t, "acme")
	t.Cleanup(f.Close)
	noViolations(t, "keycloak", f.Errors)
	f.AddClient("wiki", nil)
	users := []string{"alice", "bob"}
	ids := map[string]string{}
	for _, u := range users {
		ids[u] = f.AddUser(u, u+"@example.com")
		f.AddSession(ids[u], "wiki")
		f.AddGrant(ids[u], "wiki", true, true)
	}
	profile := func(t *testing.T, secret string) *Env {
		return adminEnv(t, "keycloak", f.URL+"/realms/acme", secret, viaFile, "client_id="+f.AdminClientID)
	}
	const usersPath = "/admin/realms/acme/users"
	return &contractIdP{
		session:     &adminSession{provider: "keycloak", e: profile(t, f.AdminSecret)},
		wrongSecret: func(t *testing.T) *Env { return profile(t, "wrong-"+f.AdminSecret) },
		requests:    func() int { return len(f.Requests()) },
		users:       users,
		// A session keeps tokens alive, and so does every refresh token,
		// offline ones included, until the user's not-before is set: the
		// logout sets it, and Keycloak then refuses every earlier token.
		tokens: func(u string) int {
			n := len(f.Sessions(ids[u]))
			if f.NotBefore(ids[u]) == 0 {
				n += len(f.Grants(ids[u]))
			}
			return n
		},
		dryRun: []string{
			"GET " + usersPath + "?exact=true&username=alice",
			"POST " + usersPath + "/{id}/logout",
		},
		unknown: "nobody-at-all", unknownResult: "user not found", unknownSays: "no user with that username",
		rateLimitNext: func(*testing.T) { f.Fail(http.MethodGet, usersPath, keycloakfake.RateLimited, 1) },
		hits: func() int {
			n := 0
			for _, r := range f.Requests() {
				if r.Method == http.MethodGet && r.Path == usersPath && r.Query.Get("username") == "bob" {
					n++
				}
			}
			return n
		},
		unsupported: []string{"app", "expiry", "set", "wiki", "--rotation", "on", "--yes"},
		insteadSays: "revokeRefreshToken",
	}
}

func oracleContract(t *testing.T) *contractIdP {
	f := oraclefake.New(t)
	t.Cleanup(f.Close)
	noViolations(t, "oracle", f.Errors)
	users := []string{"alice", "bob"}
	ids := map[string]string{}
	for _, u := range users {
		ids[u] = f.AddUser(u, true)
	}
	profile := func(t *testing.T, secret string) *Env {
		return adminEnv(t, "oracle", f.URL, secret, viaFile, "url="+f.URL, "client_id="+f.ClientID)
	}
	return &contractIdP{
		session:     &adminSession{provider: "oracle", e: profile(t, f.ClientSecret)},
		wrongSecret: func(t *testing.T) *Env { return profile(t, "wrong-"+f.ClientSecret) },
		requests:    func() int { return len(f.Requests()) },
		users:       users,
		// Identity domains have no call that revokes a user's tokens; a
		// deactivated user can neither sign in nor refresh.
		tokens: func(u string) int {
			if active, _ := f.UserActive(ids[u]); active {
				return 1
			}
			return 0
		},
		revokeArgs: []string{"--method", "deactivate"},
		dryRun:     []string{`GET /admin/v1/Users?filter=userName eq "alice"`, "PUT /admin/v1/UserStatusChanger/{id}"},
		unknown:    "nobody-at-all", unknownResult: "user not found", unknownSays: "no user with that userName",
		rateLimitNext: func(*testing.T) { f.FailNext(http.MethodGet, oraclefake.Fail429, 1) },
		hits: func() int {
			n := 0
			for _, r := range f.AdminRequests() {
				if r.Method == http.MethodGet && r.Path == "/admin/v1/Users" && strings.Contains(r.Query.Get("filter"), `"bob"`) {
					n++
				}
			}
			return n
		},
		// Without --method there is no way to revoke: exit 7 names them.
		unsupported: []string{"token", "revoke", "--user", "alice", "--yes"},
		insteadSays: `"deactivate"`,
	}
}

func auth0Contract(t *testing.T) *contractIdP {
	f := auth0fake.New(t, auth0fake.Options{ClientSecret: "contract-auth0-m2m-secret-0123456789"})
	t.Cleanup(f.Close)
	noViolations(t, "auth0", f.Violations)
	users := []string{"auth0|alice", "auth0|bob"}
	for _, u := range users {
		f.AddUser(auth0fake.User{ID: u, Email: strings.TrimPrefix(u, "auth0|") + "@example.com"})
		f.AddSessions(u, 1)
		f.AddRefreshTokens(u, "payroll", 2)
	}
	f.AddClient(auth0fake.Application("payroll", "Payroll", auth0fake.RotatingRefreshTokens()))
	profile := func(t *testing.T, secret string) *Env {
		return adminEnv(t, "auth0", f.URL+"/", secret, viaFile, "url="+f.URL, "client_id="+f.ClientID())
	}
	bobTokens := "/api/v2/users/auth0|bob/refresh-tokens"
	return &contractIdP{
		session:     &adminSession{provider: "auth0", e: profile(t, f.ClientSecret())},
		wrongSecret: func(t *testing.T) *Env { return profile(t, "wrong-"+f.ClientSecret()) },
		requests:    func() int { return len(f.Requests()) },
		users:       users,
		tokens:      func(u string) int { return f.RefreshTokens(u, "") + f.Sessions(u) },
		// Auth0 answers 202: it revokes asynchronously.
		revoked: "accepted",
		dryRun:  []string{"DELETE /api/v2/users/auth0%7Calice/refresh-tokens", "DELETE /api/v2/users/auth0%7Calice/sessions"},
		unknown: "auth0|nobody-at-all", unknownResult: "user not found", unknownSays: "Auth0 has no user",
		// Auth0 says when to come back in X-RateLimit-Reset, not Retry-After.
		rateLimitNext: func(*testing.T) {
			f.Inject(auth0fake.Injection{Method: http.MethodDelete, Path: bobTokens, Fault: auth0fake.Fault429, ResetIn: time.Second})
		},
		hits: func() int {
			n := 0
			for _, r := range f.Requests() {
				if r.Method == http.MethodDelete && r.Path == bobTokens {
					n++
				}
			}
			return n
		},
		unsupported: []string{"app", "expiry", "set", "payroll", "--access-token", "1h", "--yes"},
		insteadSays: "--api",
	}
}

func oktaContract(t *testing.T) *contractIdP {
	f := oktafake.New(t, oktafake.Options{Token: "00contractOktaApiToken-0123456789abcdef"})
	t.Cleanup(f.Close)
	noViolations(t, "okta", f.Violations)
	users := []string{"alice@example.com", "bob@example.com"}
	ids := map[string]string{"alice@example.com": "00u1alice", "bob@example.com": "00u2bob"}
	for _, u := range users {
		f.AddUser(oktafake.User{ID: ids[u], Login: u, Email: u})
		f.AddSessions(ids[u], 2)
		f.AddRefreshTokens(ids[u], "0oa1payroll", 2)
	}
	f.AddApp(oktafake.OIDCApp("0oa1payroll", "0oa1payroll", "Payroll"))
	f.AddAuthorizationServer("default")
	f.AddPolicy("default", oktafake.Policy("00p1", "Payroll policy", 1, "0oa1payroll"))
	f.AddRule("default", "00p1", oktafake.Rule("0pr1", "Payroll rule", 1, 60, 0, 10080))
	profile := func(t *testing.T, token string) *Env {
		return adminEnv(t, "okta", f.URL+"/oauth2/default", token, viaFile, "url="+f.URL)
	}
	return &contractIdP{
		session:     &adminSession{provider: "okta", e: profile(t, f.Token())},
		wrongSecret: func(t *testing.T) *Env { return profile(t, "00contractWrongToken-0123456789abcdef") },
		requests:    func() int { return len(f.Requests()) },
		users:       users,
		tokens:      func(u string) int { return f.Sessions(ids[u]) + f.RefreshTokens(ids[u], "") },
		dryRun: []string{
			"GET /api/v1/users/alice@example.com",
			"DELETE /api/v1/users/{userId}/sessions?oauthTokens=true&forgetDevices=false",
		},
		unknown: "nobody-at-all@example.com", unknownResult: "user not found", unknownSays: "Okta has no user",
		// Okta says when to come back in X-Rate-Limit-Reset, on its clock.
		rateLimitNext: func(*testing.T) {
			f.Inject(oktafake.Injection{Method: http.MethodGet, Path: "/api/v1/users/bob@example.com", Fault: oktafake.Fault429, ResetIn: time.Second})
		},
		hits: func() int {
			n := 0
			for _, r := range f.Requests() {
				if r.Method == http.MethodGet && r.Path == "/api/v1/users/bob@example.com" {
					n++
				}
			}
			return n
		},
		unsupported: []string{"key", "regen", "authz", "encryption", "--yes"},
		insteadSays: "only the signing key rotates",
	}
}

func ciscoContract(t *testing.T) *contractIdP {
	f := ucmfake.New(t)
	t.Cleanup(f.Close)
	noViolations(t, "cisco-ucm", f.Errors)
	// The hardest of the answers the revoke API may give an unknown user:
	// an empty success, which only AXL getUser tells from a user without
	// tokens.
	f.SetUnknownUser(ucmfake.UnknownUserEmpty)
	users := []string{"alice", "bob"}
	for _, u := range users {
		f.IssueRefreshToken(u, "jabber")
		f.IssueRefreshToken(u, "webex")
	}
	// The revoke API only: the platform CLI over SSH is not configured.
	profile := func(t *testing.T, password string) *Env {
		e := adminEnv(t, "cisco-ucm", f.URL, password, viaFile, "url="+f.URL, "user="+f.User)
		e.Secret(f.Password)
		return e
	}
	return &contractIdP{
		session:     &adminSession{provider: "cisco-ucm", e: profile(t, f.Password)},
		wrongSecret: func(t *testing.T) *Env { return profile(t, "wrong-"+f.Password) },
		requests:    func() int { return len(f.Requests()) },
		users:       users,
		tokens:      f.TokenCount,
		dryRun:      []string{"GET /ssosp/token/revoke?user_id=alice"},
		unknown:     "nobody-at-all", unknownResult: "user not found", unknownSays: "nobody-at-all",
		rateLimitNext: func(*testing.T) { f.FailNext(ucmfake.Fail429, 1) },
		hits: func() int {
			n := 0
			for _, r := range f.Requests() {
				if r.Query.Get("user_id") == "bob" {
					n++
				}
			}
			return n
		},
		// The token timers are cluster-wide enterprise parameters.
		unsupported: []string{"app", "expiry", "set", "cluster", "--access-token", "30m", "--yes"},
		insteadSays: "Enterprise Parameters",
	}
}

func sandboxContract(t *testing.T) *contractIdP {
	srv := startSandbox(t, sandbox.Options{Users: 2})
	users := []string{sandbox.SeededUser(1), sandbox.SeededUser(2)}
	profile := func(t *testing.T, srv *sandbox.Server, secret string) *Env {
		e := sandboxEnv(t, srv, sandbox.ServiceClientID).Set("IDPCTL_PROVIDER", "sandbox")
		e.Secret(srv.AdminSecret())
		return e.Set("IDPCTL_ADMIN_SECRET_FILE", e.WriteFile(t, "admin-secret", secret, true))
	}
	idp := &contractIdP{
		session:     &adminSession{provider: "sandbox", e: profile(t, srv, srv.AdminSecret())},
		wrongSecret: func(t *testing.T) *Env { return profile(t, srv, "wrong-"+srv.AdminSecret()) },
		users:       users,
		tokens: func(u string) int {
			g, _ := srv.Grants(u)
			return g.RefreshTokens + g.AccessTokens + g.Sessions
		},
		dryRun:  []string{"DELETE /admin/users/" + users[0] + "/tokens"},
		unknown: "nobody-at-all", unknownResult: "user not found", unknownSays: "no such user",
		unsupported: []string{"app", "expiry", "set", sandbox.ServiceClientID, "--refresh-idle", "1h", "--yes"},
		insteadSays: "--refresh-token",
	}
	// The sandbox counts requests per path; the revocations are the only
	// admin requests that change anything.
	idp.requests = func() int {
		n := 0
		for _, u := range append(append([]string{}, users...), idp.unknown) {
			n += srv.Requests(sandbox.PathAdmin + "/users/" + u + "/tokens")
		}
		return n
	}
	// A second sandbox whose admin budget is one request per window: the
	// budget is spent, so the revocation meets a 429 with Retry-After and
	// must wait for the window to roll over. The session is pointed at it.
	idp.rateLimitNext = func(t *testing.T) {
		tight := startSandbox(t, sandbox.Options{Users: 2, AdminRateLimit: 1})
		idp.session = &adminSession{provider: "sandbox", e: profile(t, tight, tight.AdminSecret())}
		idp.tokens = func(u string) int {
			g, _ := tight.Grants(u)
			return g.RefreshTokens + g.AccessTokens + g.Sessions
		}
		idp.hits = func() int { return tight.Requests(sandbox.PathAdmin + "/users/" + users[1] + "/tokens") }
		mustRun(t, idp.session.e, "", "app", "list")
	}
	return idp
}

func TestAdminContract(t *testing.T) {
	for _, row := range contractRows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			idp := row.start(t)
			s := idp.session
			user := idp.users[0]
			if idp.tokens(user) == 0 {
				t.Fatalf("%s holds no tokens to begin with", user)
			}
			t.Run("a dry run names the calls and sends nothing", func(t *testing.T) {
				s.dryRun(t, idp.requests, user, idp.revokeArgs, idp.dryRun...)
			})
			t.Run("without a terminal and without --yes nothing is sent", func(t *testing.T) {
				before, sent := idp.tokens(user), idp.requests()
				r := s.run(t, 2, append([]string{"token", "revoke", "--user", user}, idp.revokeArgs...)...)
				if !strings.Contains(r.Stderr, "--yes") {
					t.Errorf("the refusal does not name --yes\n%s", r)
				}
				if n := idp.requests() - sent; n != 0 {
					t.Errorf("an unconfirmed revocation sent %d requests", n)
				}
				if idp.tokens(user) != before {
					t.Errorf("%s's tokens changed", user)
				}
			})
			t.Run("revoking ends the user's tokens at the IdP", func(t *testing.T) {
				wantResult(t, s.revoke(t, user, idp.revokeArgs...), idp.revokedAs())
				if n := idp.tokens(user); n != 0 {
					t.Errorf("%s still holds %d tokens or sessions", user, n)
				}
				if idp.tokens(idp.users[1]) == 0 {
					t.Errorf("%s lost their tokens too", idp.users[1])
				}
			})
			t.Run("an unknown user is reported as the vendor can tell", func(t *testing.T) {
				// A user the IdP can say it does not know fails the
				// revocation (exit 1, loudly); one it cannot tell from a
				// user without tokens (Hydra) is nothing to revoke.
				var res map[string]any
				if idp.unknownResult == "user not found" {
					res = s.revokeUnknown(t, idp.unknown, idp.revokeArgs...)
				} else {
					res = s.revoke(t, idp.unknown, idp.revokeArgs...)
				}
				wantResult(t, res, idp.unknownResult)
				if !strings.Contains(field(res, "detail"), idp.unknownSays) {
					t.Errorf("detail %q does not say %q", field(res, "detail"), idp.unknownSays)
				}
			})
			t.Run("a refused admin credential is exit 4 and never shown", func(t *testing.T) {
				e := idp.wrongSecret(t)
				bad := &adminSession{provider: row.name, e: e}
				r := bad.act(t, 4, append(append([]string{"token", "revoke", "--user", idp.users[1]}, idp.revokeArgs...), "--yes", "-o", "json")...)
				wantResult(t, jsonObject(t, r), "failed")
				noneIn(t, "the refusal", r.Stdout+r.Stderr, append(e.Secrets(), s.e.Secrets()...))
				if idp.tokens(idp.users[1]) == 0 {
					t.Errorf("%s's tokens changed after a refusal", idp.users[1])
				}
			})
			t.Run("doctor proves the admin credential and catches a wrong one", func(t *testing.T) {
				// Every adapter has a read that needs the credential (a
				// listing or its own probe): a wrong secret must never
				// pass as accepted.
				r := run(t, s.e, "", "doctor", "--admin-only", "-o", "json")
				good := doctorRows(t, r)
				if perms := good["admin permissions"]; field(perms, "status") != "ok" {
					t.Errorf("the right credential: %v\n%s", perms, r)
				}
				// Every row sends a credential (an SDK's signature counts).
				if d := field(good["admin credential"], "detail"); strings.Contains(d, "none sent") {
					t.Errorf("the credential line says none is sent: %q", d)
				}
				e := idp.wrongSecret(t)
				r = run(t, e, "", "doctor", "--admin-only", "-o", "json")
				rows := doctorRows(t, r)
				cred, perms := field(rows["admin credential"], "status"), field(rows["admin permissions"], "status")
				if perms == "ok" || (cred != "fail" && perms != "fail") || r.Code == 0 {
					t.Errorf("a wrong credential: credential %s, permissions %s, exit %d\n%s", cred, perms, r.Code, r)
				}
				noneIn(t, "doctor", r.Stdout+r.Stderr, append(e.Secrets(), s.e.Secrets()...))
			})
			t.Run("a capability the vendor lacks is exit 7 naming what to do instead", func(t *testing.T) {
				r := s.run(t, 7, idp.unsupported...)
				if !strings.Contains(r.Stderr, "not supported") || !strings.Contains(r.Stderr, idp.insteadSays) {
					t.Errorf("exit 7 does not name the alternative %q\n%s", idp.insteadSays, r)
				}
			})
			t.Run("a 429 is waited out as Retry-After or the vendor's reset says", func(t *testing.T) {
				idp.rateLimitNext(t)
				other := idp.users[1]
				before := idp.hits()
				wantResult(t, idp.session.revoke(t, other, idp.revokeArgs...), idp.revokedAs())
				if n := idp.hits() - before; n < 2 {
					t.Errorf("the rate-limited endpoint saw %d requests, want the refused one and its retry", n)
				}
				if n := idp.tokens(other); n != 0 {
					t.Errorf("%s still holds %d tokens or sessions", other, n)
				}
			})
			s.checkAudit(t)
		})
	}
}
