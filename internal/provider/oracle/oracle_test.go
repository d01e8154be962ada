package oracle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/oracle/oraclefake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

type fixture struct {
	fake  *oraclefake.Server
	p     *Provider
	env   *provider.Env
	debug *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fake := oraclefake.New(t)
	providertest.Watch(t, fake.Close, fake.Errors)
	debug := &bytes.Buffer{}
	env := providertest.Env(t, fake.URL,
		&provider.AdminAuth{Scheme: provider.AuthClientCredentials, ClientID: fake.ClientID, Secret: fake.ClientSecret},
		httpx.Options{Sleep: providertest.NoSleep, Debug: debug})
	env.Now = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
	env.Sleep = providertest.NoSleep
	return &fixture{fake: fake, p: providertest.Adapter[*Provider](t, New, env), env: env, debug: debug}
}

// bare is an adapter that sends nothing, for its error classification.
func bare(t testing.TB) *Provider {
	p, err := New(&provider.Env{BaseURL: "https://idcs-x.identity.oraclecloud.com", HTTP: providertest.HTTP(t, httpx.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

func bearer(t *testing.T, r oraclefake.Request) {
	t.Helper()
	if !strings.HasPrefix(r.Authorization, "Bearer fake-admin-token-") {
		t.Errorf("%s %s: Authorization %q, want the admin Bearer token", r.Method, r.Path, r.Authorization)
	}
}

func TestNewFillsTheClientCredentialsDefaults(t *testing.T) {
	env := &provider.Env{BaseURL: "https://idcs-abc.identity.oraclecloud.com/ui/v1/adminconsole", HTTP: providertest.HTTP(t, httpx.Options{}),
		Auth: &provider.AdminAuth{Scheme: provider.AuthClientCredentials}}
	p, err := New(env)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*Provider).Domain(); got != "https://idcs-abc.identity.oraclecloud.com" {
		t.Errorf("domain = %q", got)
	}
	if env.Auth.TokenURL != "https://idcs-abc.identity.oraclecloud.com/oauth2/v1/token" || env.Auth.Scope != DefaultScope {
		t.Errorf("token URL %q scope %q", env.Auth.TokenURL, env.Auth.Scope)
	}
	env = &provider.Env{BaseURL: "https://idcs-abc.identity.oraclecloud.com", HTTP: providertest.HTTP(t, httpx.Options{}),
		Auth: &provider.AdminAuth{Scheme: provider.AuthClientCredentials, TokenURL: "https://other/token", Scope: "custom"}}
	if _, err := New(env); err != nil {
		t.Fatal(err)
	}
	if env.Auth.TokenURL != "https://other/token" || env.Auth.Scope != "custom" {
		t.Errorf("configured values were overwritten: %q %q", env.Auth.TokenURL, env.Auth.Scope)
	}
}

func TestTheDomainComesFromTheAdminURLOrADomainIssuer(t *testing.T) {
	tests := []struct {
		name, base, issuer, want, errPart string
	}{
		{name: "admin url wins", base: "https://idcs-1.identity.oraclecloud.com/", issuer: "https://idcs-2.identity.oraclecloud.com", want: "https://idcs-1.identity.oraclecloud.com"},
		{name: "issuer of the domain", issuer: "https://idcs-2.identity.oraclecloud.com:443/", want: "https://idcs-2.identity.oraclecloud.com:443"},
		{name: "the shared issuer names no domain", issuer: "https://identity.oraclecloud.com/", errPart: "shared by every identity domain"},
		{name: "nothing configured", errPart: "set the admin url"},
		{name: "not a URL", base: "idcs-1.identity.oraclecloud.com", errPart: "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(&provider.Env{BaseURL: tt.base, Issuer: tt.issuer, HTTP: providertest.HTTP(t, httpx.Options{})})
			if tt.errPart != "" {
				providertest.WantKind(t, err, errs.KindUsage, tt.errPart)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.(*Provider).Domain(); got != tt.want {
				t.Errorf("domain = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRevokingWithoutAMethodExplainsBothAlternatives(t *testing.T) {
	f := newFixture(t)
	for _, call := range []func() error{
		func() error {
			_, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice"})
			return err
		},
		func() error { _, err := f.p.PlanRevokeUser(provider.RevokeUserRequest{User: "alice"}); return err },
	} {
		err := call()
		if !errs.Is(err, errs.KindUnsupported) || !strings.Contains(err.Error(), `"deactivate"`) || !strings.Contains(err.Error(), `"grants"`) || !strings.Contains(err.Error(), "stay valid until they expire") {
			t.Errorf("err = %v", err)
		}
	}
	if n := len(f.fake.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestRevokeRequestsThatMakeNoSenseAreUsageErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		req  provider.RevokeUserRequest
		part string
	}{
		{provider.RevokeUserRequest{User: "alice", Method: "lock"}, "unknown revocation method"},
		{provider.RevokeUserRequest{User: "alice", Method: MethodDeactivate, Client: "app"}, "affects every app"},
		{provider.RevokeUserRequest{User: " ", Method: MethodGrants}, "no user"},
		{provider.RevokeUserRequest{User: "alice", Method: MethodDeactivate, IncludeAppRoles: true}, "goes with the \"grants\" method"},
	}
	for _, tt := range tests {
		_, err := f.p.RevokeUser(context.Background(), tt.req)
		if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), tt.part) {
			t.Errorf("%+v: err = %v", tt.req, err)
		}
	}
}

func TestDeactivatingAUserSendsTheStatusChangerAndIsHonestAboutTheRest(t *testing.T) {
	f := newFixture(t)
	id := f.fake.AddUser("alice", true)
	f.fake.AddUser("bob", true)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodDeactivate})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || res.Detail != "user deactivated: cannot sign in or refresh; re-activate to restore" {
		t.Errorf("result = %+v", res)
	}
	if !strings.Contains(res.StillValid, "until they expire") || !strings.HasPrefix(res.RequestID, "fake-req-") {
		t.Errorf("still valid %q, request id %q", res.StillValid, res.RequestID)
	}
	if active, _ := f.fake.UserActive(id); active {
		t.Error("the user is still active")
	}
	reqs := f.fake.AdminRequests()
	if len(reqs) != 2 {
		t.Fatalf("%d admin requests, want 2", len(reqs))
	}
	get, put := reqs[0], reqs[1]
	if get.Method != http.MethodGet || get.Path != "/admin/v1/Users" || get.Query.Get("filter") != `userName eq "alice"` || get.Query.Get("attributes") != "userName,active" {
		t.Errorf("search = %s %s %v", get.Method, get.Path, get.Query)
	}
	if put.Method != http.MethodPut || put.Path != "/admin/v1/UserStatusChanger/"+id || len(put.Query) != 0 {
		t.Errorf("put = %s %s %v", put.Method, put.Path, put.Query)
	}
	var body map[string]any
	if err := json.Unmarshal(put.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"active": false, "schemas": []any{oraclefake.SchemaUserStatusChanger}}
	if fmt.Sprint(body) != fmt.Sprint(want) {
		t.Errorf("body = %s", put.Body)
	}
	for _, r := range reqs {
		bearer(t, r)
	}

	again, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodDeactivate})
	if err != nil {
		t.Fatal(err)
	}
	if again.Outcome != provider.OutcomeNothingToRevoke || !strings.Contains(again.Detail, "already deactivated") {
		t.Errorf("second call = %+v", again)
	}
	if n := len(f.fake.AdminRequests()); n != 3 {
		t.Errorf("the second call sent %d requests, want only the search", n-2)
	}
}

func TestAnUnknownUserIsAnOutcomeNotAnError(t *testing.T) {
	for _, method := range []string{MethodDeactivate, MethodGrants} {
		t.Run(method, func(t *testing.T) {
			f := newFixture(t)
			f.fake.AddUser("alice", true)
			res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "mallory", Method: method})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != provider.OutcomeUserNotFound || res.StillValid != "" {
				t.Errorf("result = %+v", res)
			}
			if n := len(f.fake.AdminRequests()); n != 1 {
				t.Errorf("%d requests, want the search only", n)
			}
		})
	}
}

func TestUserNamesAreQuotedForTheSCIMFilter(t *testing.T) {
	f := newFixture(t)
	name := `o"brien\eq or userName eq "x`
	id := f.fake.AddUser(name, true)
	f.fake.AddUser("x", true)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: name, Method: MethodDeactivate})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("result = %+v", res)
	}
	if active, _ := f.fake.UserActive(id); active {
		t.Error("the quoted user was not deactivated")
	}
	if got := f.fake.AdminRequests()[0].Query.Get("filter"); got != `userName eq "o\"brien\\eq or userName eq \"x"` {
		t.Errorf("filter = %s", got)
	}
}

func TestRevokingGrantsDeletesDirectGrantsAndKeepsGroupGrants(t *testing.T) {
	f := newFixture(t)
	uid := f.fake.AddUser("alice", true)
	other := f.fake.AddUser("bob", true)
	mail := f.fake.AddApp(oraclefake.App{DisplayName: "Mail", Name: "mail-client", IsOAuthClient: true})
	crm := f.fake.AddApp(oraclefake.App{DisplayName: "CRM", Name: "crm-client", IsOAuthClient: true})
	wiki := f.fake.AddApp(oraclefake.App{DisplayName: "Wiki", Name: "wiki-client", IsOAuthClient: true})
	g1 := f.fake.AddGrant(uid, mail, "ADMINISTRATOR_TO_USER")
	g2 := f.fake.AddGrant(uid, crm, "ADMINISTRATOR_TO_USER")
	kept := f.fake.AddGrant(uid, wiki, "GROUP_MEMBERSHIP")
	bobs := f.fake.AddGrant(other, mail, "ADMINISTRATOR_TO_USER")

	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodGrants})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked {
		t.Errorf("outcome = %s", res.Outcome)
	}
	wantDetail := "revoked 2 grants: app access removed; tokens already issued stay valid until they expire; 1 grant through group membership kept (Wiki): remove the user from those groups"
	if res.Detail != wantDetail {
		t.Errorf("detail = %q", res.Detail)
	}
	if got := fmt.Sprint(f.fake.Grants()); got != fmt.Sprint([]string{kept, bobs}) {
		t.Errorf("remaining grants = %s", got)
	}
	reqs := f.fake.AdminRequests()
	list := reqs[1]
	if list.Method != http.MethodGet || list.Path != "/admin/v1/Grants" || list.Query.Get("filter") != `grantee.value eq "`+uid+`"` || list.Query.Get("attributes") != "grantee,app,grantMechanism,entitlement" || list.Query.Get("startIndex") != "1" {
		t.Errorf("grant search = %s %s %v", list.Method, list.Path, list.Query)
	}
	var deleted []string
	for _, r := range reqs[2:] {
		bearer(t, r)
		if r.Method != http.MethodDelete {
			t.Errorf("unexpected %s %s", r.Method, r.Path)
		}
		deleted = append(deleted, r.Path)
	}
	if fmt.Sprint(deleted) != fmt.Sprint([]string{"/admin/v1/Grants/" + g1, "/admin/v1/Grants/" + g2}) {
		t.Errorf("deleted %v", deleted)
	}

	again, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodGrants})
	if err != nil {
		t.Fatal(err)
	}
	if again.Outcome != provider.OutcomeNothingToRevoke || !strings.HasPrefix(again.Detail, "nothing to revoke: no direct grants; 1 grant through group") {
		t.Errorf("second call = %+v", again)
	}
}

func TestRevokingOneAppsGrantFindsTheAppByClientID(t *testing.T) {
	f := newFixture(t)
	uid := f.fake.AddUser("alice", true)
	mail := f.fake.AddApp(oraclefake.App{DisplayName: "Mail", Name: "mail-client", IsOAuthClient: true})
	crm := f.fake.AddApp(oraclefake.App{DisplayName: "CRM", Name: "crm-client", IsOAuthClient: true})
	keep := f.fake.AddGrant(uid, mail, "ADMINISTRATOR_TO_USER")
	gone := f.fake.AddGrant(uid, crm, "ADMINISTRATOR_TO_USER")

	calls, err := f.p.PlanRevokeUser(provider.RevokeUserRequest{User: "alice", Method: MethodGrants, Client: "crm-client"})
	if err != nil || len(calls) != 4 {
		t.Fatalf("plan = %v, %v", calls, err)
	}
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodGrants, Client: "crm-client"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || !strings.HasPrefix(res.Detail, "revoked 1 grant:") || res.Client != "crm-client" {
		t.Errorf("result = %+v", res)
	}
	if got := f.fake.Grants(); len(got) != 1 || got[0] != keep {
		t.Errorf("remaining grants %v; %s should be gone", got, gone)
	}
	reqs := f.fake.AdminRequests()
	if q := reqs[1].Query; reqs[1].Path != "/admin/v1/Apps" || q.Get("filter") != `id eq "crm-client" or name eq "crm-client" or displayName eq "crm-client"` || q.Get("attributes") != "displayName,name" {
		t.Errorf("app search = %s %v", reqs[1].Path, q)
	}
	if got := reqs[2].Query.Get("filter"); got != `grantee.value eq "`+uid+`" and app.value eq "`+crm+`"` {
		t.Errorf("grant filter = %s", got)
	}

	_, err = f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodGrants, Client: "nope"})
	providertest.WantKind(t, err, errs.KindUsage, `no app with id, client id or display name "nope"`)
}

func TestAdminAPIFailuresAreClassified(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		fail    oraclefake.Failure
		n       int
		kind    errs.Kind
		msgPart string
	}{
		{"401 after a fresh token", "", oraclefake.Fail401, 2, errs.KindRefused, "refused the admin credential (HTTP 401)"},
		{"403", http.MethodPut, oraclefake.Fail403, 1, errs.KindRefused, "lacks the permission (HTTP 403): You do not have the required permissions."},
		{"429 that does not lift", http.MethodPut, oraclefake.Fail429, 10, errs.KindNetwork, "rate limited"},
		{"500", http.MethodPut, oraclefake.Fail500, 1, errs.KindNetwork, "(HTTP 500): An internal error occurred. [error.common.fake.status500]"},
		{"an HTML page", http.MethodPut, oraclefake.FailHTML, 10, errs.KindNetwork, "HTML page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.fake.AddUser("alice", true)
			f.fake.FailNext(tt.method, tt.fail, tt.n)
			res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodDeactivate})
			if err == nil {
				t.Fatalf("no error; result %+v", res)
			}
			providertest.WantKind(t, err, tt.kind, tt.msgPart)
		})
	}
}

func TestAnExpiredAdminTokenIsFetchedAgainOnce(t *testing.T) {
	f := newFixture(t)
	f.fake.AddUser("alice", true)
	if _, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodGrants}); err != nil {
		t.Fatal(err)
	}
	f.fake.ExpireAdminTokens()
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodDeactivate})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || f.fake.TokensIssued() != 2 {
		t.Errorf("outcome %s, tokens issued %d", res.Outcome, f.fake.TokensIssued())
	}
}

func TestARateLimitedSearchIsRetried(t *testing.T) {
	f := newFixture(t)
	f.fake.AddUser("alice", true)
	f.fake.FailNext(http.MethodGet, oraclefake.Fail429, 1)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Method: MethodDeactivate})
	if err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("res %+v err %v", res, err)
	}
	if n := len(f.fake.AdminRequests()); n != 3 {
		t.Errorf("%d admin requests, want search twice and the PUT", n)
	}
}

func TestSecretsNeverReachTheDebugTrace(t *testing.T) {
	f := newFixture(t)
	const appSecret = "app-client-secret-3f9a7c"
	f.fake.AddUser("alice", true)
	id := f.fake.AddApp(oraclefake.App{DisplayName: "Mail", Name: "mail-client", IsOAuthClient: true, IsOAuthResource: true, AllowOffline: true,
		AccessTokenExpiry: 3600, RefreshTokenExpiry: 604800, ClientSecret: appSecret})
	ctx := context.Background()
	if _, err := f.p.RevokeUser(ctx, provider.RevokeUserRequest{User: "alice", Method: MethodDeactivate}); err != nil {
		t.Fatal(err)
	}
	lt, err := f.p.GetExpiry(ctx, "Mail")
	if err != nil {
		t.Fatal(err)
	}
	d := 8 * 24 * time.Hour
	plan, err := f.p.PlanExpiry(ctx, "Mail", provider.LifetimeChange{RefreshToken: &d})
	if err != nil {
		t.Fatal(err)
	}
	after, err := f.p.ApplyExpiry(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	trace := f.debug.String()
	if !strings.Contains(trace, "/admin/v1/Apps/"+id) {
		t.Fatalf("the trace does not show the app calls:\n%s", trace)
	}
	results, _ := json.Marshal([]any{lt, plan, after})
	providertest.NoSecrets(t, []string{appSecret, f.fake.ClientSecret, "fake-admin-token-1"}, trace, string(results))
	// The fake does return the secret to a read that names no attributes,
	// so the check above would catch an adapter that forgot them.
	if f.fake.AppAttr(id, "clientSecret") != appSecret {
		t.Error("the fake lost the client secret")
	}
}

func TestReadingExpiryFindsTheAppByIDClientIDOrDisplayName(t *testing.T) {
	f := newFixture(t)
	id := f.fake.AddApp(oraclefake.App{DisplayName: "Mail", Name: "mail-client", IsOAuthClient: true, IsOAuthResource: true, AllowOffline: true, AccessTokenExpiry: 3600, RefreshTokenExpiry: 604800})
	for _, ref := range []string{id, "mail-client", "Mail", "mail"} {
		t.Run(ref, func(t *testing.T) {
			lt, err := f.p.GetExpiry(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if lt.App != "Mail" || lt.AccessToken.Value != time.Hour || lt.AccessToken.Native != "3600 seconds" || lt.AccessToken.Source != provider.SourceApp || !lt.AccessToken.Known {
				t.Errorf("access = %+v (app %q)", lt.AccessToken, lt.App)
			}
			if lt.RefreshToken.Value != 7*24*time.Hour || lt.RefreshToken.Native != "604800 seconds" {
				t.Errorf("refresh = %+v", lt.RefreshToken)
			}
			if lt.RefreshIdle.Known || lt.RefreshIdle.SetWhere == "" || lt.Rotation != nil {
				t.Errorf("idle %+v rotation %v", lt.RefreshIdle, lt.Rotation)
			}
			if !strings.Contains(strings.Join(lt.Notes, "\n"), "resource") {
				t.Errorf("notes do not say the lifetime belongs to the resource app: %q", lt.Notes)
			}
		})
	}
	reqs := f.fake.AdminRequests()
	get := reqs[len(reqs)-1]
	if get.Method != http.MethodGet || get.Path != "/admin/v1/Apps/"+id || get.Query.Get("attributes") != appAttributes {
		t.Errorf("read = %s %s %v", get.Method, get.Path, get.Query)
	}
}

func TestAmbiguousOrUnknownAppsAreUsageErrors(t *testing.T) {
	f := newFixture(t)
	f.fake.AddApp(oraclefake.App{DisplayName: "Portal", Name: "portal-a", IsOAuthClient: true})
	f.fake.AddApp(oraclefake.App{DisplayName: "Portal", Name: "portal-b", IsOAuthClient: true})
	_, err := f.p.GetExpiry(context.Background(), "Portal")
	providertest.WantKind(t, err, errs.KindUsage, "2 apps have the display name")
	if _, err := f.p.GetExpiry(context.Background(), "portal-b"); err != nil {
		t.Errorf("the client id should be unambiguous: %v", err)
	}
	_, err = f.p.GetExpiry(context.Background(), "nothing")
	providertest.WantKind(t, err, errs.KindUsage, "")
}

func TestAnAppWithoutExpiryValuesReportsThemUnknown(t *testing.T) {
	f := newFixture(t)
	f.fake.AddApp(oraclefake.App{DisplayName: "Bare", Name: "bare", IsOAuthClient: true})
	lt, err := f.p.GetExpiry(context.Background(), "bare")
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Known || lt.AccessToken.Source != provider.SourceInherited || lt.RefreshToken.Known {
		t.Errorf("lifetimes = %+v", lt)
	}
	if !strings.Contains(strings.Join(lt.Notes, "\n"), "allowOffline is false") {
		t.Errorf("notes = %q", lt.Notes)
	}
}

func TestSettingExpiryPatchesOnlyTheNamedAttributesAndReadsBack(t *testing.T) {
	f := newFixture(t)
	id := f.fake.AddApp(oraclefake.App{DisplayName: "Mail", Name: "mail-client", IsOAuthClient: true, IsOAuthResource: true, AllowOffline: true,
		AccessTokenExpiry: 3600, RefreshTokenExpiry: 604800, ClientSecret: "s3cret-value", RedirectURIs: []string{"https://mail.example.com/cb"}})
	ctx := context.Background()
	refresh := 904800 * time.Second
	access := 30 * time.Minute
	plan, err := f.p.PlanExpiry(ctx, "mail-client", provider.LifetimeChange{RefreshToken: &refresh, AccessToken: &access})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Calls) != 2 || plan.Calls[0].Method != http.MethodPatch || plan.Calls[1].Method != http.MethodGet {
		t.Errorf("calls = %v", plan.Calls)
	}
	if plan.Before.RefreshToken.Value != 604800*time.Second || plan.After.RefreshToken.Value != refresh || plan.After.AccessToken.Value != access {
		t.Errorf("before %v after %v", plan.Before.RefreshToken, plan.After)
	}
	if plan.Destructive {
		t.Error("an app change is not destructive beyond the app")
	}
	planned := len(f.fake.AdminRequests())
	got, err := f.p.ApplyExpiry(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken.Value != refresh || got.AccessToken.Value != access {
		t.Errorf("read back = %+v", got)
	}
	reqs := f.fake.AdminRequests()[planned:]
	if len(reqs) != 2 {
		t.Fatalf("apply sent %d requests", len(reqs))
	}
	patch := reqs[0]
	if patch.Method != http.MethodPatch || patch.Path != "/admin/v1/Apps/"+id || patch.Query.Get("attributes") != appAttributes {
		t.Errorf("patch = %s %s %v", patch.Method, patch.Path, patch.Query)
	}
	wantBody := `{"Operations":[{"op":"replace","path":"accessTokenExpiry","value":1800},{"op":"replace","path":"refreshTokenExpiry","value":904800}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`
	if string(bytes.TrimSpace(patch.Body)) != wantBody {
		t.Errorf("patch body = %s\nwant        %s", patch.Body, wantBody)
	}
	if reqs[1].Method != http.MethodGet || reqs[1].Path != "/admin/v1/Apps/"+id {
		t.Errorf("read back = %s %s", reqs[1].Method, reqs[1].Path)
	}
	// Unrelated attributes are untouched.
	if f.fake.AppAttr(id, "clientSecret") != "s3cret-value" || fmt.Sprint(f.fake.AppAttr(id, "redirectUris")) != "[https://mail.example.com/cb]" || f.fake.AppAttr(id, "allowOffline") != true {
		t.Error("a PATCH of the expiries changed other attributes")
	}
	if f.fake.AppAttr(id, "refreshTokenExpiry") != float64(904800) {
		t.Errorf("stored refresh = %v", f.fake.AppAttr(id, "refreshTokenExpiry"))
	}
}

func TestAPlanThatChangesNothingWritesNothing(t *testing.T) {
	f := newFixture(t)
	f.fake.AddApp(oraclefake.App{DisplayName: "Mail", Name: "mail-client", IsOAuthClient: true, IsOAuthResource: true, AllowOffline: true, AccessTokenExpiry: 3600})
	access := time.Hour
	plan, err := f.p.PlanExpiry(context.Background(), "Mail", provider.LifetimeChange{AccessToken: &access})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Calls) != 1 || len(plan.Warnings) == 0 {
		t.Errorf("calls %v warnings %v", plan.Calls, plan.Warnings)
	}
	before := len(f.fake.AdminRequests())
	if _, err := f.p.ApplyExpiry(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.fake.AdminRequests()[before:] {
		if r.Method != http.MethodGet {
			t.Errorf("unexpected %s %s", r.Method, r.Path)
		}
	}
}

func TestExpiryChangesTheDomainCannotHoldAreRefusedBeforeAnyRequest(t *testing.T) {
	f := newFixture(t)
	f.fake.AddApp(oraclefake.App{DisplayName: "Mail", Name: "mail-client", IsOAuthClient: true})
	idle, half, neg, on := time.Hour, 1500*time.Millisecond, -time.Second, true
	tests := []struct {
		name string
		ch   provider.LifetimeChange
		kind errs.Kind
	}{
		{"idle timeout", provider.LifetimeChange{RefreshIdle: &idle}, errs.KindUnsupported},
		{"rotation", provider.LifetimeChange{Rotation: &on}, errs.KindUnsupported},
		{"fractions of seconds", provider.LifetimeChange{AccessToken: &half}, errs.KindUsage},
		{"negative", provider.LifetimeChange{RefreshToken: &neg}, errs.KindUsage},
		{"nothing", provider.LifetimeChange{}, errs.KindUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.p.PlanExpiry(context.Background(), "Mail", tt.ch)
			providertest.WantKind(t, err, tt.kind, "")
		})
	}
	if n := len(f.fake.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	_, err := f.p.ApplyExpiry(context.Background(), &provider.ExpiryPlan{State: "foreign"})
	providertest.WantKind(t, err, errs.KindUsage, "")
}

func TestPlanWarnsWhenTheRefreshExpiryCannotMatter(t *testing.T) {
	f := newFixture(t)
	f.fake.AddApp(oraclefake.App{DisplayName: "Client", Name: "client-only", IsOAuthClient: true, AccessTokenExpiry: 3600, RefreshTokenExpiry: 7200})
	refresh := 30 * time.Minute
	plan, err := f.p.PlanExpiry(context.Background(), "client-only", provider.LifetimeChange{RefreshToken: &refresh})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(plan.Warnings, "\n")
	for _, part := range []string{"not an OAuth resource", "allowOffline is false", "not shorter than the refresh"} {
		if !strings.Contains(w, part) {
			t.Errorf("warnings lack %q: %q", part, plan.Warnings)
		}
	}
}

func TestListAppsPagesThroughOAuthClients(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 150; i++ {
		f.fake.AddApp(oraclefake.App{DisplayName: fmt.Sprintf("App %03d", i), Name: fmt.Sprintf("client-%03d", i), IsOAuthClient: true})
	}
	f.fake.AddApp(oraclefake.App{DisplayName: "SAML only", Name: "saml"})
	apps, err := f.p.ListApps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 150 || apps[0].ClientID != "client-000" || apps[0].Name != "App 000" || apps[0].ID == "" {
		t.Fatalf("%d apps, first %+v", len(apps), apps[0])
	}
	reqs := f.fake.AdminRequests()
	if len(reqs) != 2 {
		t.Fatalf("%d pages requested", len(reqs))
	}
	for i, start := range []string{"1", "101"} {
		q := reqs[i].Query
		if q.Get("filter") != "isOAuthClient eq true" || q.Get("attributes") != "displayName,name" || q.Get("startIndex") != start || q.Get("count") != "100" {
			t.Errorf("page %d query %v", i, q)
		}
	}
}

func TestKeysAreListedFromTheJWKSAndCannotBeRotated(t *testing.T) {
	f := newFixture(t)
	keys, err := f.p.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].KID != "SIGNING_KEY" || keys[0].Algorithm != "RS256" || keys[0].Status != "active" || keys[0].Use != "sig" {
		t.Errorf("keys = %+v", keys)
	}
	f.fake.AddKey("SIGNING_KEY_2")
	keys, err = f.p.ListKeys(context.Background())
	if err != nil || len(keys) != 2 || keys[1].Status != "published" {
		t.Errorf("keys = %+v err %v", keys, err)
	}
	if r := f.fake.AdminRequests()[0]; r.Path != "/admin/v1/SigningCert/jwk" || r.Method != http.MethodGet {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	_, err = f.p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{})
	providertest.WantKind(t, err, errs.KindUnsupported, "there is no rotation API")
	_, err = f.p.Rotate(context.Background(), &provider.RotatePlan{Use: provider.KeyEncryption})
	providertest.WantKind(t, err, errs.KindUnsupported, "encryption")
}

func TestSCIMErrorDetailIsQuotedCleaned(t *testing.T) {
	got := vendorMessage([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"bad\nvalue eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","status":"400","scimType":"invalidValue"}`))
	if !strings.Contains(got, "invalidValue") {
		t.Errorf("message = %q", got)
	}
	resp := &httpx.Response{Status: 400, Body: []byte(`{"detail":"bad\nvalue eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}`), URL: "https://idcs-x.identity.oraclecloud.com/admin/v1/Apps", Header: http.Header{}}
	err := bare(t).Fail("x", resp)
	if strings.Contains(err.Error(), "eyJ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %q", err)
	}
}

func TestObjectsDeletedMeanwhileAreReportedNotFound(t *testing.T) {
	f := newFixture(t)
	id := f.fake.AddUser("alice", true)
	f.fake.RemoveUser(id)
	res, err := f.p.deactivate(context.Background(), &scimUser{ID: id, UserName: "alice"}, &provider.RevokeUserResult{User: "alice"})
	if err != nil || res.Outcome != provider.OutcomeUserNotFound {
		t.Errorf("deactivating a deleted user: %+v, %v", res, err)
	}
	_, err = f.p.readApp(context.Background(), "a9999")
	providertest.WantKind(t, err, errs.KindUsage, "no longer exists")
}

// A grant with an entitlement gives an app role (administrator roles
// among them), not app access: it stays unless asked for, and the result
// lists it either way.
func TestAppRoleGrantsAreKeptAndListedUnlessIncluded(t *testing.T) {
	for _, include := range []bool{false, true} {
		t.Run(fmt.Sprintf("include app roles %v", include), func(t *testing.T) {
			f := newFixture(t)
			uid := f.fake.AddUser("alice", true)
			mail := f.fake.AddApp(oraclefake.App{DisplayName: "Mail", Name: "mail-client", IsOAuthClient: true})
			console := f.fake.AddApp(oraclefake.App{DisplayName: "IDCS Application", Name: "IDCSAppId"})
			access := f.fake.AddGrant(uid, mail, "ADMINISTRATOR_TO_USER")
			admin := f.fake.AddAppRoleGrant(uid, console, "role-identity-domain-administrator", "ADMINISTRATOR_TO_USER")

			req := provider.RevokeUserRequest{User: "alice", Method: MethodGrants, IncludeAppRoles: include}
			calls, err := f.p.PlanRevokeUser(req)
			if err != nil {
				t.Fatal(err)
			}
			purpose := calls[len(calls)-1].Purpose
			res, err := f.p.RevokeUser(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			left := f.fake.Grants()
			if slices.Contains(left, access) {
				t.Fatalf("the app-access grant survived: %v", left)
			}
			if !include {
				if !slices.Equal(left, []string{admin}) {
					t.Fatalf("remaining grants %v, want the app-role grant %s kept", left, admin)
				}
				if !strings.Contains(res.Detail, "1 app-role grant kept (appRoles role-identity-domain-administrator of IDCS Application)") || !strings.Contains(res.Detail, "--include-app-roles") {
					t.Fatalf("detail %q", res.Detail)
				}
				if !strings.Contains(purpose, "app-role grants, administrator roles included, are kept") {
					t.Fatalf("plan purpose %q", purpose)
				}
				return
			}
			if len(left) != 0 || !strings.Contains(res.Detail, "revoked 2 grants") || !strings.Contains(res.Detail, "1 of them was an app-role grant") {
				t.Fatalf("remaining %v, detail %q", left, res.Detail)
			}
			if !strings.Contains(purpose, "app-role grants (entitlements, administrator roles included) too") {
				t.Fatalf("plan purpose %q", purpose)
			}
		})
	}
}

// A SCIM listing that pages on past the cap is an error, never a partial
// list passed off as the whole: a grant on an unread page would stay.
func TestAListingThatNeverEndsIsAnErrorNotAPartialList(t *testing.T) {
	var pages atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := pages.Add(1)
		w.Header().Set("Content-Type", "application/scim+json")
		fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1000000,"startIndex":%s,"itemsPerPage":1,"Resources":[{"id":"app-%d","displayName":"App %d","isOAuthClient":true}]}`, r.URL.Query().Get("startIndex"), n, n)
	}))
	defer srv.Close()
	env := providertest.Env(t, srv.URL, &provider.AdminAuth{Scheme: provider.AuthBearer, Secret: "token"}, httpx.Options{Sleep: providertest.NoSleep})
	p := providertest.Adapter[*Provider](t, New, env)
	apps, err := p.ListApps(context.Background())
	providertest.WantKind(t, err, errs.KindNetwork, "the listing was not finished")
	if apps != nil || pages.Load() != maxPages {
		t.Fatalf("%d apps after %d pages", len(apps), pages.Load())
	}
}
