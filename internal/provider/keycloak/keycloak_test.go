package keycloak

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/keycloak/keycloakfake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

type harness struct {
	fake   *keycloakfake.Server
	p      *Provider
	env    *provider.Env
	sleeps providertest.Sleeps
}

func testHTTP(t *testing.T) *httpx.Client {
	return providertest.HTTP(t, httpx.Options{Timeout: 5 * time.Second, Sleep: providertest.NoSleep})
}

// newHarness starts a fake realm "demo" and an adapter that reaches it with
// a client-credentials admin token. The fake's contract errors fail the
// test.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{fake: keycloakfake.New(t, "demo")}
	providertest.Watch(t, h.fake.Close, h.fake.Errors)
	h.env = providertest.Env(t, h.fake.URL,
		&provider.AdminAuth{Scheme: provider.AuthClientCredentials, ClientID: h.fake.AdminClientID, Secret: h.fake.AdminSecret},
		httpx.Options{Timeout: 5 * time.Second, Sleep: h.sleeps.Sleep})
	h.env.Settings = map[string]string{"realm": "demo"}
	h.env.Now = func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }
	h.env.Sleep = h.sleeps.Sleep
	h.p = providertest.Adapter[*Provider](t, New, h.env)
	return h
}

func lines(reqs []keycloakfake.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Method + " " + strings.TrimPrefix(r.Path, "/admin/realms/demo")
	}
	return out
}

func tokenRequests(f *keycloakfake.Server) int {
	n := 0
	for _, r := range f.Requests() {
		if strings.HasSuffix(r.Path, "/protocol/openid-connect/token") {
			n++
		}
	}
	return n
}

func secs(n int) *time.Duration { d := time.Duration(n) * time.Second; return &d }

// ---- New ---------------------------------------------------------------------

func TestNewFindsTheBaseAndRealm(t *testing.T) {
	tests := []struct {
		name                  string
		env                   provider.Env
		base, realm, tokenURL string
	}{
		{"issuer", provider.Env{Issuer: "https://kc.example.com/realms/acme"}, "https://kc.example.com", "acme", "https://kc.example.com/realms/master/protocol/openid-connect/token"},
		{"legacy /auth issuer", provider.Env{Issuer: "https://kc.example.com/auth/realms/acme/"}, "https://kc.example.com/auth", "acme", "https://kc.example.com/auth/realms/master/protocol/openid-connect/token"},
		{"url with realm setting and admin realm", provider.Env{BaseURL: "https://kc.example.com/", Issuer: "https://other.example/realms/x", Settings: map[string]string{"realm": "acme", "admin_realm": "ops"}}, "https://kc.example.com", "acme", "https://kc.example.com/realms/ops/protocol/openid-connect/token"},
		{"admin console url", provider.Env{BaseURL: "https://kc.example.com/admin/realms/acme"}, "https://kc.example.com", "acme", "https://kc.example.com/realms/master/protocol/openid-connect/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			env.HTTP = testHTTP(t)
			env.Auth = &provider.AdminAuth{Scheme: provider.AuthClientCredentials}
			p, err := New(&env)
			if err != nil {
				t.Fatal(err)
			}
			kp := p.(*Provider)
			if kp.base != tt.base || kp.realm != tt.realm || env.Auth.TokenURL != tt.tokenURL {
				t.Fatalf("base %q realm %q token url %q", kp.base, kp.realm, env.Auth.TokenURL)
			}
		})
	}
}

func TestNewKeepsAGivenTokenURLAndRefusesAMissingRealm(t *testing.T) {
	auth := &provider.AdminAuth{Scheme: provider.AuthClientCredentials, TokenURL: "https://sso.example/token"}
	if _, err := New(&provider.Env{HTTP: testHTTP(t), BaseURL: "https://kc.example.com", Settings: map[string]string{"realm": "a"}, Auth: auth}); err != nil || auth.TokenURL != "https://sso.example/token" {
		t.Fatalf("err %v token url %q", err, auth.TokenURL)
	}
	_, err := New(&provider.Env{HTTP: testHTTP(t), BaseURL: "https://kc.example.com"})
	providertest.WantKind(t, err, errs.KindUsage, "no realm")
}

// ---- (A) revoke ----------------------------------------------------------------

func TestRevokingEverythingLogsTheUserOutAndSetsNotBefore(t *testing.T) {
	h := newHarness(t)
	uid := h.fake.AddUser("alice", "alice@example.com")
	h.fake.AddClient("app-a", nil)
	h.fake.AddSession(uid, "app-a")
	h.fake.AddSession(uid, "app-a")
	h.fake.AddGrant(uid, "app-a", true, true)

	res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || res.Detail != "ended 2 sessions; refresh tokens issued before now are refused (the user's not-before), including the offline tokens of 1 client" {
		t.Fatalf("result = %+v", res)
	}
	if res.StillValid != "up to 5m (realm demo's access token lifespan; a client may set its own)" {
		t.Fatalf("still valid = %q", res.StillValid)
	}
	want := []string{"GET /users", "GET /users/" + uid + "/sessions", "GET /users/" + uid + "/consents", "POST /users/" + uid + "/logout", "GET "}
	if got := lines(h.fake.AdminRequests()); !slices.Equal(got, want) {
		t.Fatalf("requests:\n%s", strings.Join(got, "\n"))
	}
	if q := h.fake.AdminRequests()[0].Query; q.Get("username") != "Alice" || q.Get("exact") != "true" {
		t.Fatalf("search query = %v", q)
	}
	if h.fake.NotBefore(uid) == 0 || len(h.fake.Sessions(uid)) != 0 {
		t.Fatalf("not-before %d, sessions %v", h.fake.NotBefore(uid), h.fake.Sessions(uid))
	}
	if tokenRequests(h.fake) != 1 {
		t.Fatalf("%d token requests, want 1", tokenRequests(h.fake))
	}
}

func TestUsersAreFoundByEmailOrIdToo(t *testing.T) {
	h := newHarness(t)
	uid := h.fake.AddUser("bob", "Bob@Example.com")
	h.fake.AddUser("bobby", "bobby@example.com")
	for _, name := range []string{"bob@example.com", uid} {
		res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: name})
		if err != nil || res.Outcome != provider.OutcomeNothingToRevoke {
			t.Fatalf("%s: %+v %v", name, res, err)
		}
	}
	if h.fake.NotBefore(uid) == 0 {
		t.Fatal("the user's not-before was not set")
	}
	var searches []string
	for _, r := range h.fake.AdminRequests() {
		if r.Path == "/admin/realms/demo/users" || r.Path == "/admin/realms/demo/users/"+uid {
			searches = append(searches, r.String())
		}
	}
	want := []string{
		"GET /admin/realms/demo/users?exact=true&username=bob%40example.com",
		"GET /admin/realms/demo/users?email=bob%40example.com&exact=true",
		"GET /admin/realms/demo/users/" + uid,
	}
	if !slices.Equal(searches, want) {
		t.Fatalf("lookups:\n%s", strings.Join(searches, "\n"))
	}
}

func TestAnUnknownUserIsReportedNotFoundWithoutWriting(t *testing.T) {
	h := newHarness(t)
	res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ghost@example.com"})
	if err != nil || res.Outcome != provider.OutcomeUserNotFound {
		t.Fatalf("res %+v err %v", res, err)
	}
	for _, r := range h.fake.AdminRequests() {
		if r.Method != http.MethodGet {
			t.Fatalf("wrote %s for an unknown user", r)
		}
	}
}

func TestRevokingOneClientRevokesItsConsentAndEndsTheSessionsHoldingIt(t *testing.T) {
	h := newHarness(t)
	uid := h.fake.AddUser("alice", "")
	h.fake.AddClient("app-a", map[string]string{"access.token.lifespan": "600"})
	h.fake.AddClient("app-b", nil)
	shared := h.fake.AddSession(uid, "app-a", "app-b")
	onlyB := h.fake.AddSession(uid, "app-b")
	h.fake.AddGrant(uid, "app-a", true, true)
	h.fake.AddGrant(uid, "app-b", true, false)

	res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Client: "app-a"})
	if err != nil {
		t.Fatal(err)
	}
	want := "revoked the consent and offline tokens; ended 1 session holding its refresh tokens (which also signs the user out of app-b) for client app-a"
	if res.Outcome != provider.OutcomeRevoked || res.Detail != want {
		t.Fatalf("result = %+v", res)
	}
	if res.StillValid != "up to 10m (client app-a's access token lifespan)" {
		t.Fatalf("still valid = %q", res.StillValid)
	}
	if got := h.fake.Sessions(uid); !slices.Equal(got, []string{onlyB}) {
		t.Fatalf("sessions = %v, want only %s (shared %s ended)", got, onlyB, shared)
	}
	if got := h.fake.Grants(uid); !slices.Equal(got, []string{"app-b"}) {
		t.Fatalf("grants = %v", got)
	}
	var writes []string
	for _, r := range h.fake.AdminRequests() {
		if r.Method != http.MethodGet {
			writes = append(writes, r.Method+" "+strings.TrimPrefix(r.Path, "/admin/realms/demo"))
		}
	}
	if !slices.Equal(writes, []string{"DELETE /users/" + uid + "/consents/app-a", "DELETE /sessions/" + shared}) {
		t.Fatalf("writes = %v", writes)
	}
	if h.fake.NotBefore(uid) != 0 {
		t.Fatal("a per-client revocation set the user's not-before")
	}

	again, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Client: "app-a"})
	if err != nil || again.Outcome != provider.OutcomeNothingToRevoke {
		t.Fatalf("second run: %+v %v", again, err)
	}
}

// 'app list' shows clients by UUID, and --client accepts one: the consent
// and the sessions still name the client by its client_id.
func TestAClientGivenByItsUUIDIsRevokedLikeItsClientID(t *testing.T) {
	h := newHarness(t)
	uid := h.fake.AddUser("alice", "")
	uuid := h.fake.AddClient("app-a", nil)
	h.fake.AddClient("app-b", nil)
	h.fake.AddSession(uid, "app-a")
	onlyB := h.fake.AddSession(uid, "app-b")
	h.fake.AddGrant(uid, "app-a", true, true)

	res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Client: uuid})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || !strings.HasSuffix(res.Detail, "for client app-a") {
		t.Fatalf("result = %+v", res)
	}
	if got := h.fake.Sessions(uid); !slices.Equal(got, []string{onlyB}) {
		t.Fatalf("sessions = %v, want only %s", got, onlyB)
	}
	if got := h.fake.Grants(uid); len(got) != 0 {
		t.Fatalf("grants = %v", got)
	}
}

func TestTheConsentMethodLeavesSessionsAlone(t *testing.T) {
	h := newHarness(t)
	uid := h.fake.AddUser("alice", "")
	h.fake.AddClient("app-a", nil)
	s := h.fake.AddSession(uid, "app-a")
	h.fake.AddGrant(uid, "app-a", false, true)
	res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Client: "app-a", Method: MethodConsentOnly})
	if err != nil || res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "sessions left alone") {
		t.Fatalf("res %+v err %v", res, err)
	}
	if got := h.fake.Sessions(uid); !slices.Equal(got, []string{s}) || len(h.fake.Grants(uid)) != 0 {
		t.Fatalf("sessions %v grants %v", got, h.fake.Grants(uid))
	}
	if res.StillValid != "up to 5m (realm demo's access token lifespan)" {
		t.Fatalf("still valid = %q", res.StillValid)
	}
}

func TestRevocationRequestsAreCheckedBeforeSending(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUser("alice", "")
	tests := []struct {
		req  provider.RevokeUserRequest
		text string
	}{
		{provider.RevokeUserRequest{User: ""}, "no user"},
		{provider.RevokeUserRequest{User: "alice", Method: "magic"}, "unknown revocation method"},
		{provider.RevokeUserRequest{User: "alice", Method: MethodConsentOnly}, "needs a client"},
	}
	for _, tt := range tests {
		if _, err := h.p.RevokeUser(context.Background(), tt.req); !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), tt.text) {
			t.Fatalf("%+v: err = %v", tt.req, err)
		}
	}
	if n := len(h.fake.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	_, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice", Client: "nope"})
	if !errs.Is(err, errs.KindUsage) || err.Error() != `keycloak: no client "nope" in realm demo` {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestAnExpiredAdminTokenIsFetchedAgainOnce(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUser("alice", "")
	if _, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	h.fake.ExpireTokens()
	if _, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if n := tokenRequests(h.fake); n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}
}

func TestRevocationErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		fault  keycloakfake.Fault
		times  int
		kind   errs.Kind
		text   string
		sleeps int
	}{
		{"401 even with a fresh token", http.MethodGet, "/admin/realms/demo/users", keycloakfake.Unauthorized, 2, errs.KindRefused, "HTTP 401", 0},
		{"403 for a service account without the role", http.MethodGet, "/admin/realms/demo/users", keycloakfake.Forbidden, 1, errs.KindRefused, "HTTP 403", 0},
		{"429 that never lifts", http.MethodGet, "/admin/realms/demo/users", keycloakfake.RateLimited, 100, errs.KindNetwork, "HTTP 429", 4},
		{"500 on the logout", http.MethodPost, "", keycloakfake.ServerError, 1, errs.KindNetwork, "HTTP 500", 0},
		{"an HTML page from a proxy", http.MethodGet, "", keycloakfake.HTMLPage, 100, errs.KindNetwork, "HTML page", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddUser("alice", "")
			h.fake.Fail(tt.method, tt.path, tt.fault, tt.times)
			_, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice"})
			providertest.WantKind(t, err, tt.kind, tt.text)
			if got := len(h.sleeps.All()); got != tt.sleeps {
				t.Fatalf("slept %d times, want %d", got, tt.sleeps)
			}
			providertest.NoSecrets(t, []string{"kc-admin-token", h.fake.AdminSecret}, err.Error())
		})
	}
}

func TestARateLimitedLogoutIsRepeatedAfterRetryAfter(t *testing.T) {
	h := newHarness(t)
	uid := h.fake.AddUser("alice", "")
	h.fake.Fail(http.MethodPost, "/admin/realms/demo/users/"+uid+"/logout", keycloakfake.RateLimited, 1)
	if _, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if got := h.sleeps.All(); !slices.Equal(got, []time.Duration{time.Second}) || h.fake.NotBefore(uid) == 0 {
		t.Fatalf("slept %v, not-before %d", got, h.fake.NotBefore(uid))
	}
}

func TestPlanRevokeUserSendsNothing(t *testing.T) {
	h := newHarness(t)
	calls, err := h.p.PlanRevokeUser(provider.RevokeUserRequest{User: "alice", Client: "app-a"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range calls {
		got = append(got, c.Method+" "+c.Path)
	}
	if !slices.Contains(got, "DELETE /admin/realms/demo/users/{id}/consents/app-a") || !slices.Contains(got, "DELETE /admin/realms/demo/sessions/{session}") {
		t.Fatalf("calls = %v", got)
	}
	if len(h.fake.Requests()) != 0 {
		t.Fatal("planning sent requests")
	}
}

// ---- (B) expiry ----------------------------------------------------------------

func TestGetExpiryShowsClientValuesAndRealmDefaults(t *testing.T) {
	h := newHarness(t)
	h.fake.AddClient("app", map[string]string{"access.token.lifespan": "120", "client.session.idle.timeout": ""})
	h.fake.SetRealm(map[string]any{"clientSessionMaxLifespan": 7200, "revokeRefreshToken": true, "refreshTokenMaxReuse": 1})
	lt, err := h.p.GetExpiry(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken != (provider.Lifetime{Value: 2 * time.Minute, Known: true, Source: provider.SourceApp, Native: "120 seconds (access.token.lifespan)"}) {
		t.Fatalf("access = %+v", lt.AccessToken)
	}
	if lt.RefreshToken.Value != 2*time.Hour || lt.RefreshToken.Source != provider.SourceInherited || lt.RefreshToken.From != "realm demo" || !strings.Contains(lt.RefreshToken.Native, "clientSessionMaxLifespan") {
		t.Fatalf("refresh = %+v", lt.RefreshToken)
	}
	if lt.RefreshIdle.Value != 30*time.Minute || !strings.Contains(lt.RefreshIdle.Native, "ssoSessionIdleTimeout") {
		t.Fatalf("idle = %+v", lt.RefreshIdle)
	}
	if lt.Rotation == nil || !*lt.Rotation || lt.RotationSource != provider.SourceInherited || !strings.Contains(lt.ReuseInterval.Native, "refreshTokenMaxReuse 1") {
		t.Fatalf("rotation %v %v reuse %+v", lt.Rotation, lt.RotationSource, lt.ReuseInterval)
	}
	if !strings.Contains(strings.Join(lt.Notes, "\n"), "client.offline.session.max.lifespan unset") {
		t.Fatalf("notes = %v", lt.Notes)
	}
}

func TestSettingLifetimesSendsTheWholeClientBack(t *testing.T) {
	h := newHarness(t)
	uuid := h.fake.AddClient("app", map[string]string{"client.offline.session.idle.timeout": "86400", "use.refresh.tokens": "true"})
	plan, err := h.p.PlanExpiry(context.Background(), "app", provider.LifetimeChange{AccessToken: secs(600), RefreshToken: secs(28800), RefreshIdle: secs(3600)})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Before.AccessToken.Source != provider.SourceInherited || plan.After.AccessToken.Value != 10*time.Minute || plan.After.RefreshIdle.Value != time.Hour {
		t.Fatalf("plan before %+v after %+v", plan.Before.AccessToken, plan.After)
	}
	planned := len(h.fake.AdminRequests())
	lt, err := h.p.ApplyExpiry(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	reqs := h.fake.AdminRequests()[planned:]
	if got := lines(reqs); !slices.Equal(got, []string{"GET /clients/" + uuid, "PUT /clients/" + uuid, "GET /clients/" + uuid, "GET "}) {
		t.Fatalf("apply requests = %v", got)
	}
	c := h.fake.Client(uuid)
	attrs := c["attributes"].(map[string]any)
	want := map[string]any{
		"access.token.lifespan": "600", "client.session.max.lifespan": "28800", "client.session.idle.timeout": "3600",
		"client.offline.session.idle.timeout": "86400", "use.refresh.tokens": "true", "pkce.code.challenge.method": "S256",
	}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("attribute %s = %v, want %v", k, attrs[k], v)
		}
	}
	if c["protocolMappers"] == nil || c["redirectUris"] == nil || c["defaultClientScopes"] == nil {
		t.Fatalf("top-level members were lost: %v", c)
	}
	if lt.AccessToken.Value != 10*time.Minute || lt.RefreshToken.Value != 8*time.Hour || lt.RefreshIdle.Source != provider.SourceApp {
		t.Fatalf("read back %+v", lt)
	}
	var sent map[string]any
	if err := json.Unmarshal(reqs[1].Body, &sent); err != nil || sent["clientId"] != "app" {
		t.Fatalf("PUT body %s", reqs[1].Body)
	}
}

func TestALossyServerIsCaughtOnReadBack(t *testing.T) {
	h := newHarness(t)
	h.fake.AddClient("app", map[string]string{"pkce.code.challenge.method": "S256"})
	h.fake.LoseOnPut("pkce.code.challenge.method")
	plan, err := h.p.PlanExpiry(context.Background(), "app", provider.LifetimeChange{AccessToken: secs(60)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.p.ApplyExpiry(context.Background(), plan)
	if err == nil || !strings.Contains(err.Error(), "pkce.code.challenge.method was lost") {
		t.Fatalf("err = %v", err)
	}
}

func TestExpiryChangesAreValidatedBeforeAnyRequest(t *testing.T) {
	on := true
	half := 1500 * time.Millisecond
	tests := []struct {
		name string
		ch   provider.LifetimeChange
		kind errs.Kind
		text string
	}{
		{"rotation is realm-wide", provider.LifetimeChange{Rotation: &on}, errs.KindUnsupported, "revokeRefreshToken"},
		{"fractions of a second", provider.LifetimeChange{AccessToken: &half}, errs.KindUsage, "whole seconds"},
		{"zero", provider.LifetimeChange{RefreshToken: secs(0)}, errs.KindUsage, "at least 1s"},
		{"nothing", provider.LifetimeChange{}, errs.KindUsage, "nothing to change"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.p.PlanExpiry(context.Background(), "app", tt.ch)
			providertest.WantKind(t, err, tt.kind, tt.text)
			if len(h.fake.Requests()) != 0 {
				t.Fatal("requests were sent")
			}
		})
	}
}

func TestPlanWarnsWhenTheRealmCapsTheValue(t *testing.T) {
	h := newHarness(t)
	h.fake.AddClient("app", nil)
	plan, err := h.p.PlanExpiry(context.Background(), "app", provider.LifetimeChange{RefreshToken: secs(72000), RefreshIdle: secs(3600)})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(plan.Warnings, "\n")
	if !strings.Contains(w, "exceeds realm demo's SSO Session Max (10h)") || !strings.Contains(w, "SSO Session Idle (30m)") {
		t.Fatalf("warnings = %v", plan.Warnings)
	}
}

func TestUnknownClientsAndFailedWritesAreClassified(t *testing.T) {
	h := newHarness(t)
	_, err := h.p.GetExpiry(context.Background(), "ghost")
	providertest.WantKind(t, err, errs.KindUsage, "")
	h.fake.AddClient("app", nil)
	for _, tt := range []struct {
		fault keycloakfake.Fault
		kind  errs.Kind
	}{{keycloakfake.Forbidden, errs.KindRefused}, {keycloakfake.ServerError, errs.KindNetwork}, {keycloakfake.HTMLPage, errs.KindNetwork}} {
		plan, err := h.p.PlanExpiry(context.Background(), "app", provider.LifetimeChange{AccessToken: secs(60)})
		if err != nil {
			t.Fatal(err)
		}
		h.fake.Fail(http.MethodPut, "", tt.fault, 1)
		if _, err := h.p.ApplyExpiry(context.Background(), plan); errs.KindOf(err) != tt.kind {
			t.Fatalf("fault %v: %v", tt.fault, err)
		}
	}
	_, err = h.p.ApplyExpiry(context.Background(), &provider.ExpiryPlan{})
	providertest.WantKind(t, err, errs.KindUsage, "")
}

func TestListAppsPages(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 105; i++ {
		h.fake.AddClient("app-"+string(rune('a'+i%26))+strings.Repeat("x", i/26), nil)
	}
	apps, err := h.p.ListApps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 105 || apps[0].ClientID != "app-a" || apps[0].ID == "" {
		t.Fatalf("%d apps, first %+v", len(apps), apps[0])
	}
	var pages []string
	for _, r := range h.fake.AdminRequests() {
		pages = append(pages, r.Query.Encode())
	}
	if !slices.Equal(pages, []string{"first=0&max=100", "first=100&max=100"}) {
		t.Fatalf("pages = %v", pages)
	}
}

// ---- (C) keys ------------------------------------------------------------------

func TestListKeysNormalisesKeycloaksMetadata(t *testing.T) {
	h := newHarness(t)
	keys, err := h.p.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys = %+v", keys)
	}
	uses := map[string]provider.Key{}
	for _, k := range keys {
		uses[k.Use] = k
	}
	if uses["sig"].Algorithm != "RS256" || uses["sig"].Status != "active" || uses["enc"].Algorithm != "RSA-OAEP" || uses["sig"].KeySet == "" {
		t.Fatalf("keys = %+v", keys)
	}
	providertest.NoPrivateKeys(t, h.fake.PrivateMembers(), keys)
}

func TestRotatingTheSigningKeyAddsAHigherPriorityProviderAndKeepsTheOldOne(t *testing.T) {
	h := newHarness(t)
	before, _ := h.p.ListKeys(context.Background())
	var oldComp, oldKID string
	for _, k := range before {
		if k.Use == "sig" {
			oldComp, oldKID = k.KeySet, k.KID
		}
	}
	plan, err := h.p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.Calls[0].Purpose, "rsa-generated, RS256, priority 110") {
		t.Fatalf("calls = %+v", plan.Calls)
	}
	res, err := h.p.Rotate(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewKID == "" || res.NewKID == oldKID || len(res.Retired) != 0 || h.fake.KeyStatus(oldComp) != "ACTIVE" {
		t.Fatalf("result %+v, old status %s", res, h.fake.KeyStatus(oldComp))
	}
	if res.JWKSURL != h.fake.URL+"/realms/demo/protocol/openid-connect/certs" {
		t.Fatalf("jwks url %q", res.JWKSURL)
	}
	jwks := providertest.Get(t, res.JWKSURL)
	if !strings.Contains(jwks, res.NewKID) || !strings.Contains(jwks, oldKID) {
		t.Fatalf("jwks = %s", jwks)
	}
	var post keycloakfake.Request
	for _, r := range h.fake.AdminRequests() {
		if r.Method == http.MethodPost {
			post = r
		}
	}
	var body struct {
		Name, ProviderID, ProviderType, ParentID string
		Config                                   map[string][]string
	}
	if err := json.Unmarshal(post.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Name != "idpctl-rsa-20250601-120000" || body.ParentID != h.fake.RealmID || body.Config["priority"][0] != "110" || body.Config["algorithm"][0] != "RS256" {
		t.Fatalf("component = %+v", body)
	}
	providertest.NoPrivateKeys(t, h.fake.PrivateMembers(), res, plan)
}

func TestRetiringMakesThePreviousProviderPassiveWithoutLosingItsConfig(t *testing.T) {
	h := newHarness(t)
	before, _ := h.p.ListKeys(context.Background())
	var oldComp, oldKID string
	for _, k := range before {
		if k.Use == "sig" {
			oldComp, oldKID = k.KeySet, k.KID
		}
	}
	plan, err := h.p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{RetireOldAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan.Consequences, "\n"), "1h0m0s after the new key is published, the previous key providers") {
		t.Fatalf("consequences = %v", plan.Consequences)
	}
	rotated, err := h.p.Rotate(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	// Rotate alone never retires.
	if len(rotated.Retired) != 0 || h.fake.KeyStatus(oldComp) == "PASSIVE" {
		t.Fatalf("Rotate retired: %+v, old status %s", rotated, h.fake.KeyStatus(oldComp))
	}
	res, err := h.p.RetireKeys(context.Background(), plan, rotated)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Retired, []string{oldKID}) || h.fake.KeyStatus(oldComp) != "PASSIVE" {
		t.Fatalf("result %+v, old status %s", res, h.fake.KeyStatus(oldComp))
	}
	cfg := h.fake.Component(oldComp)["config"].(map[string]any)
	if cfg["priority"].([]any)[0] != "100" || cfg["privateKey"].([]any)[0] != keycloakfake.SecretMask || cfg["keySize"] == nil {
		t.Fatalf("config after PUT = %v", cfg)
	}
	if jwks := providertest.Get(t, res.JWKSURL); !strings.Contains(jwks, oldKID) {
		t.Fatal("a passive key must stay in the JWKS to verify")
	}
}

func TestRotatingTheEncryptionKeyUsesTheEncryptionProvider(t *testing.T) {
	h := newHarness(t)
	plan, err := h.p.PlanRotate(context.Background(), provider.KeyEncryption, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.p.Rotate(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := h.p.ListKeys(context.Background())
	found := false
	for _, k := range keys {
		if k.KID == res.NewKID {
			found = k.Use == "enc" && k.Algorithm == "RSA-OAEP"
		}
	}
	if !found {
		t.Fatalf("new key %s is not an RSA-OAEP encryption key: %+v", res.NewKID, keys)
	}
}

func TestRotationErrorsAreClassified(t *testing.T) {
	h := newHarness(t)
	plan, err := h.p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{RetireOldAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	h.fake.Fail(http.MethodPost, "", keycloakfake.Forbidden, 1)
	_, err = h.p.Rotate(context.Background(), plan)
	providertest.WantKind(t, err, errs.KindRefused, "")
	rotated, err := h.p.Rotate(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	h.fake.Fail(http.MethodPut, "", keycloakfake.ServerError, 1)
	res, err := h.p.RetireKeys(context.Background(), plan, rotated)
	if !errs.Is(err, errs.KindNetwork) || res == nil || res.NewKID != rotated.NewKID || !strings.Contains(err.Error(), "making the previous key provider") {
		t.Fatalf("500 on retiring: res %+v err %v", res, err)
	}
	_, err = h.p.PlanRotate(context.Background(), "other", provider.RotateOptions{})
	providertest.WantKind(t, err, errs.KindUsage, "")
	_, err = h.p.Rotate(context.Background(), nil)
	providertest.WantKind(t, err, errs.KindUsage, "")
}
