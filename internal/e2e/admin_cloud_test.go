package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/entra/entrafake"
	"github.com/idpctl/idpctl/internal/provider/fakekit"
	"github.com/idpctl/idpctl/internal/provider/webex/webexfake"
)

// The cloud directories' admin APIs, through the binary, against contract
// fakes built from the vendors' API descriptions.

func TestEntraAdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	const tenant, secret = "contoso.onmicrosoft.com", "e2e-entra-admin-secret-0123456789"
	f := entrafake.New(t, tenant, "admin-app", secret)
	t.Cleanup(f.Close)
	noViolations(t, "entra", f.Violations)
	f.AddUser(entrafake.User{ID: "u-ada", UPN: "ada@contoso.com", Mail: "ada@contoso.com"})
	f.AddUser(entrafake.User{ID: "u-bob", UPN: "bob@contoso.com", Mail: "bob@contoso.com"})
	f.AddApp(entrafake.App{ID: "obj-crm", AppID: "app-crm", SPID: "sp-crm", Name: "CRM"})
	f.AddGrant(entrafake.Grant{ID: "g1", ClientID: "sp-crm", ConsentType: "Principal", PrincipalID: "u-bob", Scope: "User.Read"})
	s := &adminSession{provider: "entra", e: adminEnv(t, "entra", f.URL+"/"+tenant+"/v2.0", secret, viaFile,
		"tenant="+tenant, "authority="+f.URL, "url="+f.URL, "client_id=admin-app")}
	requests := func() int { return len(f.Requests()) + f.TokenRequests() }

	t.Run("a dry run names Graph's endpoints and permissions and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "ada@contoso.com", nil,
			"GET /v1.0/users/ada@contoso.com", "POST /v1.0/users/{id}/revokeSignInSessions", "User.RevokeSessions.All")
	})
	t.Run("doctor names the Graph permissions the admin app needs", func(t *testing.T) {
		// The fake serves no discovery, so doctor fails its IdP line; the
		// admin lines are what is looked at here.
		r := run(t, s.e, "", "doctor", "-o", "json")
		rows := doctorRows(t, r)
		if field(rows["admin credential"], "status") != "ok" {
			t.Errorf("admin credential: %v\n%s", rows["admin credential"], r)
		}
		if d := field(rows["admin permissions"], "detail"); !strings.Contains(d, "User.RevokeSessions.All") {
			t.Errorf("admin permissions: %q\n%s", d, r)
		}
	})
	t.Run("--yes revokes the user's sessions and says what stays valid", func(t *testing.T) {
		res := s.revoke(t, "ada@contoso.com")
		wantResult(t, res, "revoked")
		if f.Revocations("u-ada") != 1 || f.Revocations("u-bob") != 0 {
			t.Errorf("revocations ada=%d bob=%d", f.Revocations("u-ada"), f.Revocations("u-bob"))
		}
		stillValidOnce(t, s.last)
	})
	t.Run("an unknown user is user not found", func(t *testing.T) {
		wantResult(t, s.revokeUnknown(t, "gone@contoso.com"), "user not found")
	})
	t.Run("--client also deletes the user's consent to that app", func(t *testing.T) {
		wantResult(t, s.revoke(t, "bob@contoso.com", "--client", "app-crm"), "revoked")
		if len(f.Grants()) != 0 {
			t.Errorf("grants left: %+v", f.Grants())
		}
	})
	t.Run("app expiry set gives the app a token lifetime policy and reads it back", func(t *testing.T) {
		s.act(t, 0, "app", "expiry", "set", "app-crm", "--access-token", "2h", "--yes")
		got := jsonObject(t, s.run(t, 0, "app", "expiry", "get", "app-crm", "-o", "json"))
		if field(got, "access_token", "seconds") != "7200" {
			t.Errorf("access token %v", object(got, "access_token"))
		}
	})
	t.Run("a refresh-token lifetime is exit 7 naming sign-in frequency", func(t *testing.T) {
		r := s.run(t, 7, "app", "expiry", "set", "app-crm", "--refresh-token", "7d", "--yes")
		if !strings.Contains(r.Stderr, "sign-in frequency") {
			t.Errorf("no alternative named\n%s", r)
		}
	})
	t.Run("key list reads the tenant's JWKS; key regen is exit 7 naming the alternative", func(t *testing.T) {
		if r := s.run(t, 0, "key", "list", "-o", "json"); !strings.Contains(r.Stdout, "tenant-key-1") {
			t.Errorf("keys\n%s", r)
		}
		if r := s.run(t, 7, "key", "regen", "authz", "signing", "--yes"); !strings.Contains(r.Stderr, "custom signing key") {
			t.Errorf("no alternative named\n%s", r)
		}
	})
}

func TestWebexAdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	const token = "e2e-webex-admin-token-0123456789"
	f := webexfake.New(t, token)
	t.Cleanup(f.Close)
	noViolations(t, "webex", f.Violations)
	f.AddPerson(webexfake.Person{ID: "p-ada", Email: "ada@example.com", Name: "Ada"})
	f.Grant("p-ada", "C1", "Jira Cloud", "refresh")
	f.Grant("p-ada", "C2", "Developer Portal", "refresh")
	s := &adminSession{provider: "webex", e: adminEnv(t, "webex", "https://webexapis.com/v1", token, viaFile, "url="+f.URL+"/v1")}
	requests := func() int { return len(f.Requests()) }

	t.Run("a dry run names the endpoints and scopes and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "ada@example.com", nil,
			"GET /v1/authorizations?personId={personId}", "DELETE /v1/authorizations/{authorizationId}", "identity:tokens_write")
	})
	t.Run("--yes deletes every authorization and names each integration", func(t *testing.T) {
		res := s.revoke(t, "ada@example.com")
		wantResult(t, res, "revoked")
		if d := field(res, "detail"); !strings.Contains(d, "Jira Cloud") || !strings.Contains(d, "Developer Portal") {
			t.Errorf("detail %q does not name the integrations", d)
		}
		if n := len(f.Authorizations("p-ada")); n != 0 {
			t.Errorf("%d authorizations left", n)
		}
		if n := requestsTo(f.Requests(), func(r fakekit.Request) (string, string) { return r.Method, r.Path }, http.MethodDelete, "/v1/authorizations/auth-1"); n != 1 {
			t.Errorf("auth-1 deleted %d times", n)
		}
	})
	t.Run("lifetimes and keys are exit 7", func(t *testing.T) {
		s.run(t, 7, "app", "expiry", "get", "C1")
		s.run(t, 7, "key", "regen", "authz", "signing", "--yes")
	})
}
