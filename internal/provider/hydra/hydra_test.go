package hydra

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/hydra/hydrafake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

type harness struct {
	fake   *hydrafake.Server
	p      *Provider
	env    *provider.Env
	sleeps providertest.Sleeps
}

// newHarness starts a fake and an adapter pointed at it. The fake's
// contract errors fail the test unless the test takes them itself.
func newHarness(t *testing.T, mutate ...func(*provider.Env)) *harness {
	t.Helper()
	h := &harness{fake: hydrafake.New(t)}
	providertest.Watch(t, h.fake.Close, h.fake.Errors)
	h.env = providertest.Env(t, h.fake.URL, &provider.AdminAuth{Scheme: provider.AuthNone}, httpx.Options{Timeout: 5 * time.Second, Sleep: h.sleeps.Sleep})
	h.env.Issuer = h.fake.URL
	h.env.Now = func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }
	h.env.Sleep = h.sleeps.Sleep
	for _, m := range mutate {
		m(h.env)
	}
	h.p = providertest.Adapter[*Provider](t, New, h.env)
	return h
}

func requestLines(reqs []hydrafake.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Method + " " + r.Path
	}
	return out
}

func hour(n int) *time.Duration { d := time.Duration(n) * time.Hour; return &d }

func withLifespans(access, refresh string) map[string]any {
	m := map[string]any{}
	for _, k := range hydrafake.Lifespans {
		switch {
		case strings.HasSuffix(k, "_access_token_lifespan") && access != "":
			m[k] = access
		case strings.HasSuffix(k, "_refresh_token_lifespan") && refresh != "":
			m[k] = refresh
		}
	}
	return m
}

// bare is an adapter that sends nothing, for its error classification.
func bare(t testing.TB) *Provider {
	client, _ := httpx.New(httpx.Options{})
	p, err := New(&provider.Env{HTTP: client, BaseURL: "http://127.0.0.1:4445"})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

// ---- New ---------------------------------------------------------------------

func TestNewNeedsTheAdminURL(t *testing.T) {
	client, _ := httpx.New(httpx.Options{})
	_, err := New(&provider.Env{HTTP: client, Issuer: "https://auth.example"})
	providertest.WantKind(t, err, errs.KindUsage, "admin url")
}

func TestNewDropsATrailingAdminSegmentAndDerivesTheJWKSFromTheIssuer(t *testing.T) {
	client, _ := httpx.New(httpx.Options{})
	p, err := New(&provider.Env{HTTP: client, BaseURL: "http://127.0.0.1:4445/admin/", Issuer: "https://auth.example/"})
	if err != nil {
		t.Fatal(err)
	}
	hp := p.(*Provider)
	if hp.base != "http://127.0.0.1:4445" || hp.jwksURL() != "https://auth.example/.well-known/jwks.json" {
		t.Fatalf("base %q jwks %q", hp.base, hp.jwksURL())
	}
	p, _ = New(&provider.Env{HTTP: client, BaseURL: "http://127.0.0.1:4445", Issuer: "https://auth.example", Settings: map[string]string{"public_url": "https://public.example"}})
	if got := p.(*Provider).jwksURL(); got != "https://public.example/.well-known/jwks.json" {
		t.Fatalf("jwks = %q", got)
	}
}

// ---- (A) revoke ----------------------------------------------------------------

func TestRevokingAllClientsListsEveryPageThenRevokesConsentsAndEndsLoginSessions(t *testing.T) {
	h := newHarness(t)
	h.fake.SetPageSize(2)
	h.fake.AddClient("app-a", withLifespans("1h", "720h"))
	h.fake.AddClient("app-b", withLifespans("30m", ""))
	for _, c := range []string{"app-a", "app-b", "app-a"} {
		h.fake.AddConsent("user-1", c)
	}
	h.fake.AddConsent("user-2", "app-a")
	h.fake.AddLoginSession("user-1")

	res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "user-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "3 consent sessions across 2 clients (app-a, app-b)") || !strings.Contains(res.Detail, "login sessions ended") {
		t.Fatalf("result = %+v", res)
	}
	if res.StillValid != "up to 1h (the longest access token lifespan of those clients; JWT access tokens stay valid until they expire)" {
		t.Fatalf("still valid = %q", res.StillValid)
	}
	reqs := h.fake.Requests()
	want := []string{
		"GET /admin/oauth2/auth/sessions/consent",
		"GET /admin/oauth2/auth/sessions/consent",
		"DELETE /admin/oauth2/auth/sessions/consent",
		"DELETE /admin/oauth2/auth/sessions/login",
		"GET /admin/clients/app-a",
		"GET /admin/clients/app-b",
	}
	if got := requestLines(reqs); !slices.Equal(got, want) {
		t.Fatalf("requests:\n%s", strings.Join(got, "\n"))
	}
	if reqs[1].Query.Get("page_token") == "" || reqs[1].Query.Get("subject") != "user-1" {
		t.Fatalf("second page query = %v", reqs[1].Query)
	}
	if q := reqs[2].Query; q.Get("subject") != "user-1" || q.Get("all") != "true" || q.Has("client") {
		t.Fatalf("revoke query = %v", q)
	}
	if reqs[0].Header.Get("Authorization") != "" {
		t.Fatal("an Authorization header went to the open-source admin port")
	}
	if len(h.fake.Consents("user-1")) != 0 || h.fake.LoginSessions("user-1") != 0 || len(h.fake.Consents("user-2")) != 1 {
		t.Fatalf("fake state: user-1 %v logins %d, user-2 %v", h.fake.Consents("user-1"), h.fake.LoginSessions("user-1"), h.fake.Consents("user-2"))
	}
}

func TestRevokingOneClientLeavesTheOthersAndTheLoginSessions(t *testing.T) {
	h := newHarness(t)
	h.fake.AddClient("app-a", withLifespans("15m", ""))
	h.fake.AddConsent("user-1", "app-a")
	h.fake.AddConsent("user-1", "app-b")
	h.fake.AddLoginSession("user-1")

	res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "user-1", Client: "app-a"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || res.Detail != "revoked 1 consent session of client app-a with their access and refresh tokens" {
		t.Fatalf("result = %+v", res)
	}
	if !strings.HasPrefix(res.StillValid, "up to 15m (the client's access token lifespan") {
		t.Fatalf("still valid = %q", res.StillValid)
	}
	var del hydrafake.Request
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodDelete {
			if del.Method != "" {
				t.Fatalf("more than one DELETE: %v", requestLines(h.fake.Requests()))
			}
			del = r
		}
	}
	if del.Query.Encode() != "client=app-a&subject=user-1" {
		t.Fatalf("revoke query = %q", del.Query.Encode())
	}
	if got := h.fake.Consents("user-1"); !slices.Equal(got, []string{"app-b"}) || h.fake.LoginSessions("user-1") != 1 {
		t.Fatalf("consents %v logins %d", got, h.fake.LoginSessions("user-1"))
	}
}

func TestASecondRevocationReportsNothingToRevokeButStillSendsTheRevocation(t *testing.T) {
	h := newHarness(t)
	h.fake.AddConsent("user-1", "app-a")
	req := provider.RevokeUserRequest{User: "user-1", Client: "app-a"}
	if res, err := h.p.RevokeUser(context.Background(), req); err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("first: %+v %v", res, err)
	}
	before := len(h.fake.Requests())
	res, err := h.p.RevokeUser(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeNothingToRevoke || res.StillValid != "" {
		t.Fatalf("second: %+v", res)
	}
	want := []string{"GET /admin/clients/app-a", "GET /admin/oauth2/auth/sessions/consent", "DELETE /admin/oauth2/auth/sessions/consent"}
	if got := requestLines(h.fake.Requests()[before:]); !slices.Equal(got, want) {
		t.Fatalf("second run sent %v", got)
	}
}

// Hydra answers 204 to a revocation for a client it does not know: a
// mistyped --client is refused before anything is sent, rather than
// reported as nothing to revoke while the meant client's tokens live on.
func TestAMistypedClientIsRefusedBeforeAnythingIsRevoked(t *testing.T) {
	h := newHarness(t)
	h.fake.AddConsent("user-1", "app-a")
	_, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "user-1", Client: "app-typo"})
	providertest.WantKind(t, err, errs.KindUsage, `no client "app-typo"`)
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodDelete {
			t.Fatalf("sent %s %s", r.Method, r.Path)
		}
	}
	if got := h.fake.Consents("user-1"); !slices.Equal(got, []string{"app-a"}) {
		t.Fatalf("consents = %v", got)
	}
}

// Hydra's listing leaves out sessions whose remembered consent timed out,
// while their refresh tokens live on: an empty listing must not stop the
// revocation.
func TestSessionsTheListingHidesAreRevokedToo(t *testing.T) {
	tests := []struct {
		name        string
		client      string
		listed      []string
		wantOutcome provider.Outcome
		wantDetail  string
		wantLeft    []string
	}{
		{"all clients, nothing listed", "", nil, provider.OutcomeNothingToRevoke, "remembered consent timed out", nil},
		{"one client, nothing listed", "app-a", nil, provider.OutcomeNothingToRevoke, "no consent session for client app-a", []string{"app-b"}},
		{"all clients, one listed and one hidden", "", []string{"app-c"}, provider.OutcomeRevoked, "revoked 1 consent session across 1 client (app-c)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddTimedOutConsent("user-1", "app-a", time.Hour)
			h.fake.AddTimedOutConsent("user-1", "app-b", time.Hour)
			for _, c := range tt.listed {
				h.fake.AddConsent("user-1", c)
			}
			res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "user-1", Client: tt.client})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.wantOutcome || !strings.Contains(res.Detail, tt.wantDetail) {
				t.Fatalf("result = %+v", res)
			}
			if got := h.fake.Consents("user-1"); !slices.Equal(got, tt.wantLeft) {
				t.Fatalf("consents with live tokens left: %v, want %v", got, tt.wantLeft)
			}
		})
	}
}

func TestAConcurrentUpdateConflictIsRetriedAndThenReportedAsTransient(t *testing.T) {
	for _, fault := range []hydrafake.Fault{hydrafake.ConcurrentUpdate, hydrafake.ConcurrentUpdateOAuth} {
		t.Run("once, then done "+fault.String(), func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddConsent("u", "app")
			h.fake.Fail(http.MethodDelete, consentPath, fault, 1)
			res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "u"})
			if err != nil || res.Outcome != provider.OutcomeRevoked {
				t.Fatalf("res %+v err %v", res, err)
			}
			if len(h.fake.Consents("u")) != 0 || len(h.sleeps.All()) != 1 {
				t.Fatalf("consents %v, sleeps %v", h.fake.Consents("u"), h.sleeps.All())
			}
		})
	}
	t.Run("for good", func(t *testing.T) {
		h := newHarness(t)
		h.fake.AddConsent("u", "app")
		h.fake.Fail(http.MethodDelete, consentPath, hydrafake.ConcurrentUpdate, 100)
		_, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "u"})
		providertest.WantKind(t, err, errs.KindNetwork, "concurrent update")
		if !provider.IsTransient(err) {
			t.Fatalf("not marked transient: %v", err)
		}
		if got := len(h.sleeps.All()); got != 4 {
			t.Fatalf("slept %d times, want 4 retries", got)
		}
	})
	t.Run("an ordinary 400 is neither retried nor transient", func(t *testing.T) {
		resp := &httpx.Response{Status: http.StatusBadRequest, Body: []byte(`{"error":"invalid_request","error_description":"subject is missing"}`)}
		if IsConcurrentUpdate(resp) || provider.IsTransient(bare(t).fail("x", resp)) {
			t.Fatal("an ordinary 400 was taken for a concurrent update")
		}
	})
}

// Hydra keeps no user directory: an unknown subject cannot be told from one
// without sessions, and the result says so instead of claiming either.
func TestAnUnknownSubjectIsNothingToRevokeAndTheResultSaysHydraCannotTell(t *testing.T) {
	h := newHarness(t)
	res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeNothingToRevoke || !strings.Contains(res.Detail, "no user directory") || !strings.Contains(res.Detail, "check the subject") {
		t.Fatalf("result = %+v", res)
	}
	want := []string{"GET /admin/oauth2/auth/sessions/consent", "DELETE /admin/oauth2/auth/sessions/consent", "DELETE /admin/oauth2/auth/sessions/login"}
	if got := requestLines(h.fake.Requests()); !slices.Equal(got, want) {
		t.Fatalf("requests = %v", got)
	}
}

func TestStillValidSaysWhatIsKnownAboutTheAccessTokens(t *testing.T) {
	tests := []struct {
		name   string
		fields map[string]any
		want   string
	}{
		{"inherited lifespans are unknown", nil, ""},
		{"opaque access tokens die at once", map[string]any{"access_token_strategy": "opaque"}, "only where they are not introspected: the clients use opaque access tokens, which Hydra's introspection reports inactive at once"},
		{"a set lifespan bounds JWTs", withLifespans("2h", ""), "up to 2h (the client's access token lifespan; JWT access tokens stay valid until they expire)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddClient("app", tt.fields)
			h.fake.AddConsent("u", "app")
			res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "u", Client: "app"})
			if err != nil {
				t.Fatal(err)
			}
			if res.StillValid != tt.want {
				t.Fatalf("still valid = %q, want %q", res.StillValid, tt.want)
			}
		})
	}
}

func TestRevocationErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		fault  hydrafake.Fault
		times  int
		kind   errs.Kind
		text   string
		sleeps int
	}{
		{"401 on the listing", http.MethodGet, consentPath, hydrafake.Unauthorized, 1, errs.KindRefused, "HTTP 401", 0},
		{"403 on the revocation", http.MethodDelete, consentPath, hydrafake.Forbidden, 1, errs.KindRefused, "request_forbidden", 0},
		{"429 that never lifts", http.MethodGet, consentPath, hydrafake.RateLimited, 100, errs.KindNetwork, "rate limited", 4},
		{"500 on the revocation", http.MethodDelete, consentPath, hydrafake.ServerError, 1, errs.KindNetwork, "HTTP 500", 0},
		{"503 on the login sessions that never lifts", http.MethodDelete, loginPath, hydrafake.Unavailable, 100, errs.KindNetwork, "HTTP 503", 4},
		{"an HTML page from a proxy", http.MethodGet, consentPath, hydrafake.HTMLPage, 100, errs.KindNetwork, "HTML page", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddConsent("u", "app")
			h.fake.Fail(tt.method, tt.path, tt.fault, tt.times)
			_, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "u"})
			providertest.WantKind(t, err, tt.kind, tt.text)
			if got := len(h.sleeps.All()); got != tt.sleeps {
				t.Fatalf("slept %d times, want %d", got, tt.sleeps)
			}
		})
	}
}

func TestARateLimitedListingIsRetriedAfterRetryAfter(t *testing.T) {
	h := newHarness(t)
	h.fake.AddConsent("u", "app")
	h.fake.Fail(http.MethodGet, consentPath, hydrafake.RateLimited, 1)
	res, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "u", Client: "app"})
	if err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("res %+v err %v", res, err)
	}
	if got := h.sleeps.All(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Fatalf("slept %v, want [1s] from Retry-After", got)
	}
}

func TestOryNetworkBearerKeysAreSentAndRefusalsReported(t *testing.T) {
	h := newHarness(t, func(e *provider.Env) {
		e.Auth = &provider.AdminAuth{Scheme: provider.AuthBearer, Secret: "ory_pat_wrong"}
	})
	h.fake.RequireToken("ory_pat_right")
	_, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "u"})
	providertest.WantKind(t, err, errs.KindRefused, "")
	providertest.NoSecrets(t, []string{"ory_pat"}, err.Error())
	h.env.Auth.Secret = "ory_pat_right"
	if _, err := h.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "u"}); err != nil {
		t.Fatal(err)
	}
}

func TestPlanRevokeUserSendsNothingAndNamesEveryCall(t *testing.T) {
	h := newHarness(t)
	calls, err := h.p.PlanRevokeUser(provider.RevokeUserRequest{User: "user 1"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range calls {
		got = append(got, c.Method+" "+c.Path)
	}
	want := []string{
		"GET /admin/oauth2/auth/sessions/consent?subject=user+1",
		"DELETE /admin/oauth2/auth/sessions/consent?all=true&subject=user+1",
		"DELETE /admin/oauth2/auth/sessions/login?subject=user+1",
	}
	if !slices.Equal(got, want) || len(h.fake.Requests()) != 0 {
		t.Fatalf("calls = %v, requests = %d", got, len(h.fake.Requests()))
	}
	_, err = h.p.PlanRevokeUser(provider.RevokeUserRequest{User: " "})
	providertest.WantKind(t, err, errs.KindUsage, "")
}

// ---- (B) expiry ----------------------------------------------------------------

func TestGetExpiryOfAClientWithoutLifespansIsInheritedFromTheConfiguration(t *testing.T) {
	h := newHarness(t)
	h.fake.AddClient("app", nil)
	lt, err := h.p.GetExpiry(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Source != provider.SourceInherited || lt.AccessToken.Known || lt.AccessToken.From != "Hydra configuration ttl.access_token" {
		t.Fatalf("access = %+v", lt.AccessToken)
	}
	if lt.RefreshToken.From != "Hydra configuration ttl.refresh_token" || lt.RefreshIdle.SetWhere == "" {
		t.Fatalf("refresh = %+v idle = %+v", lt.RefreshToken, lt.RefreshIdle)
	}
	if lt.Rotation == nil || !*lt.Rotation || lt.RotationSource != provider.SourceVendor {
		t.Fatalf("rotation = %v %v", lt.Rotation, lt.RotationSource)
	}
}

func TestGetExpiryShowsTheLongestAccessLifespanAndNotesThatGrantsDiffer(t *testing.T) {
	h := newHarness(t)
	fields := withLifespans("1h", "")
	fields["client_credentials_grant_access_token_lifespan"] = "5m0s"
	h.fake.AddClient("app", fields)
	lt, err := h.p.GetExpiry(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Value != time.Hour || lt.AccessToken.Source != provider.SourceApp || !strings.Contains(lt.AccessToken.Native, "client_credentials 5m0s") {
		t.Fatalf("access = %+v", lt.AccessToken)
	}
	if !strings.Contains(strings.Join(lt.Notes, "\n"), "access token lifespans differ per grant") {
		t.Fatalf("notes = %v", lt.Notes)
	}
}

func TestAnUnknownClientIsAUsageError(t *testing.T) {
	h := newHarness(t)
	_, err := h.p.GetExpiry(context.Background(), "ghost")
	if !errs.Is(err, errs.KindUsage) || err.Error() != `hydra: no client "ghost" (see 'idpctl app list')` {
		t.Fatalf("err = %v", err)
	}
	_, err = h.p.PlanExpiry(context.Background(), "ghost", provider.LifetimeChange{AccessToken: hour(1)})
	providertest.WantKind(t, err, errs.KindUsage, "")
}

func TestSettingLifespansSendsEveryLifespanBackSoUnrelatedOnesSurvive(t *testing.T) {
	h := newHarness(t)
	h.fake.AddClient("app", map[string]any{
		"client_name": "App",
		"authorization_code_grant_id_token_lifespan":   "30m0s",
		"device_authorization_grant_id_token_lifespan": "15m0s",
		"refresh_token_grant_refresh_token_lifespan":   "24h0m0s",
	})
	plan, err := h.p.PlanExpiry(context.Background(), "app", provider.LifetimeChange{AccessToken: hour(2), RefreshToken: hour(720)})
	if err != nil {
		t.Fatal(err)
	}
	if plan.After.AccessToken.Value != 2*time.Hour || plan.After.RefreshToken.Value != 720*time.Hour || plan.Before.AccessToken.Known {
		t.Fatalf("plan before %+v after %+v", plan.Before.AccessToken, plan.After)
	}
	if !strings.Contains(strings.Join(plan.Warnings, "\n"), "refresh token lifespans differed per grant") {
		t.Fatalf("warnings = %v", plan.Warnings)
	}
	planned := len(h.fake.Requests())

	lt, err := h.p.ApplyExpiry(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	reqs := h.fake.Requests()[planned:]
	if got := requestLines(reqs); !slices.Equal(got, []string{"GET /admin/clients/app", "PUT /admin/clients/app/lifespans", "GET /admin/clients/app"}) {
		t.Fatalf("apply requests = %v", got)
	}
	var sent map[string]any
	if err := json.Unmarshal(reqs[1].Body, &sent); err != nil {
		t.Fatal(err)
	}
	if len(sent) != len(hydrafake.Lifespans) {
		t.Fatalf("sent %d lifespans, want all %d: %v", len(sent), len(hydrafake.Lifespans), sent)
	}
	c := h.fake.Client("app")
	want := map[string]any{
		"authorization_code_grant_access_token_lifespan":    "2h0m0s",
		"device_authorization_grant_access_token_lifespan":  "2h0m0s",
		"refresh_token_grant_refresh_token_lifespan":        "720h0m0s",
		"device_authorization_grant_refresh_token_lifespan": "720h0m0s",
		"authorization_code_grant_id_token_lifespan":        "30m0s",
		"device_authorization_grant_id_token_lifespan":      "15m0s",
		"refresh_token_grant_id_token_lifespan":             nil,
		"client_name":                                       "App",
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %v, want %v", k, c[k], v)
		}
	}
	if lt.AccessToken.Value != 2*time.Hour || lt.AccessToken.Native != "2h0m0s" || lt.RefreshToken.Value != 720*time.Hour {
		t.Fatalf("read back %+v %+v", lt.AccessToken, lt.RefreshToken)
	}
}

func TestApplyReReadsTheClientSoAConcurrentEditIsKept(t *testing.T) {
	h := newHarness(t)
	h.fake.AddClient("app", nil)
	plan, err := h.p.PlanExpiry(context.Background(), "app", provider.LifetimeChange{AccessToken: hour(1)})
	if err != nil {
		t.Fatal(err)
	}
	h.fake.AddClient("app", map[string]any{"implicit_grant_id_token_lifespan": "10m0s"})
	if _, err := h.p.ApplyExpiry(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	if c := h.fake.Client("app"); c["implicit_grant_id_token_lifespan"] != "10m0s" || c["implicit_grant_access_token_lifespan"] != "1h0m0s" {
		t.Fatalf("client = %v", c)
	}
}

func TestChangesHydraCannotMakeAreRefusedBeforeAnyRequest(t *testing.T) {
	off, on := false, true
	idle := time.Hour
	short := 500 * time.Millisecond
	tests := []struct {
		name string
		ch   provider.LifetimeChange
		kind errs.Kind
		text string
	}{
		{"refresh idle", provider.LifetimeChange{RefreshIdle: &idle}, errs.KindUnsupported, "no idle timeout"},
		{"rotation off", provider.LifetimeChange{Rotation: &off}, errs.KindUnsupported, "oauth2.grant.refresh_token.rotation_grace_period"},
		{"rotation on alone changes nothing", provider.LifetimeChange{Rotation: &on}, errs.KindUsage, "nothing to change"},
		{"sub-second lifespan", provider.LifetimeChange{AccessToken: &short}, errs.KindUsage, "at least 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.p.PlanExpiry(context.Background(), "app", tt.ch)
			providertest.WantKind(t, err, tt.kind, tt.text)
			if n := len(h.fake.Requests()); n != 0 {
				t.Fatalf("%d requests sent", n)
			}
		})
	}
}

func TestApplyErrorsAreClassified(t *testing.T) {
	tests := []struct {
		fault hydrafake.Fault
		kind  errs.Kind
	}{
		{hydrafake.Forbidden, errs.KindRefused},
		{hydrafake.ServerError, errs.KindNetwork},
		{hydrafake.HTMLPage, errs.KindNetwork},
	}
	for _, tt := range tests {
		h := newHarness(t)
		h.fake.AddClient("app", nil)
		plan, err := h.p.PlanExpiry(context.Background(), "app", provider.LifetimeChange{AccessToken: hour(1)})
		if err != nil {
			t.Fatal(err)
		}
		h.fake.Fail(http.MethodPut, "/admin/clients/app/lifespans", tt.fault, 1)
		if _, err := h.p.ApplyExpiry(context.Background(), plan); errs.KindOf(err) != tt.kind {
			t.Fatalf("fault %v: err = %v", tt.fault, err)
		}
		if c := h.fake.Client("app"); c["implicit_grant_access_token_lifespan"] != nil {
			t.Fatalf("fault %v: the failed write changed the client", tt.fault)
		}
	}
}

func TestAPlanFromAnotherAdapterIsRefused(t *testing.T) {
	h := newHarness(t)
	_, err := h.p.ApplyExpiry(context.Background(), &provider.ExpiryPlan{State: "x"})
	providertest.WantKind(t, err, errs.KindUsage, "")
	_, err = h.p.ApplyExpiry(context.Background(), nil)
	providertest.WantKind(t, err, errs.KindUsage, "")
}

func TestListAppsFollowsTheNextLink(t *testing.T) {
	h := newHarness(t)
	h.fake.SetPageSize(2)
	for _, id := range []string{"a", "b", "c"} {
		h.fake.AddClient(id, map[string]any{"client_name": strings.ToUpper(id)})
	}
	apps, err := h.p.ListApps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 3 || apps[2] != (provider.App{ID: "c", ClientID: "c", Name: "C"}) {
		t.Fatalf("apps = %+v", apps)
	}
	if n := len(h.fake.Requests()); n != 2 {
		t.Fatalf("%d requests, want 2 pages", n)
	}
}

func TestNextPageQueryReadsEveryLinkForm(t *testing.T) {
	cur := &url.URL{Scheme: "http", Host: "127.0.0.1:4445", Path: "/admin/oauth2/auth/sessions/consent", RawQuery: "subject=u"}
	tests := []struct {
		name, link, token string
		ok                bool
	}{
		{"relative", `</admin/clients?page_size=2&page_token=abc>; rel="first",</admin/clients?page_size=2&page_token=def>; rel="next"`, "def", true},
		{"absolute", `<https://hydra.example/admin/clients?page_token=xyz&page_size=250>; rel="next"`, "xyz", true},
		{"query-escaped whole", `<` + url.QueryEscape("/admin/clients?page_size=2&page_token=esc") + `>; rel="next"`, "esc", true},
		{"last page", `</admin/clients?page_size=2&page_token=abc>; rel="first"`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, ok := provider.NextLink(http.Header{"Link": {tt.link}})
			var next url.Values
			if ok {
				var u *url.URL
				if u, ok = nextPage(cur, target); ok {
					next = u.Query()
				}
			}
			if ok != tt.ok || (ok && (next.Get("page_token") != tt.token || next.Get("subject") != "u")) {
				t.Fatalf("next = %v ok = %v", next, ok)
			}
		})
	}
}

// ---- (C) keys ------------------------------------------------------------------

func TestListKeysMarksTheNewestKeyOfEachSetActive(t *testing.T) {
	h := newHarness(t)
	older := h.fake.AddKey(IDTokenKeySet)
	newer := h.fake.AddKey(IDTokenKeySet)
	at := h.fake.AddKey(AccessTokenKeySet)
	keys, err := h.p.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.Key{
		{KID: newer, Algorithm: "RS256", Use: "sig", Status: "active", KeySet: IDTokenKeySet},
		{KID: older, Algorithm: "RS256", Use: "sig", Status: "passive", KeySet: IDTokenKeySet},
		{KID: at, Algorithm: "RS256", Use: "sig", Status: "active", KeySet: AccessTokenKeySet},
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %+v", keys)
	}
	providertest.NoPrivateKeys(t, h.fake.PrivateMembers(), keys)
}

func TestRotatingKeepsThePreviousKeyUnlessAskedAndPublishesTheNewOne(t *testing.T) {
	h := newHarness(t)
	old := h.fake.AddKey(IDTokenKeySet)
	plan, err := h.p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan.Consequences, "\n"), "stay published") || len(plan.Calls) != 1 {
		t.Fatalf("plan = %+v", plan)
	}
	res, err := h.p.Rotate(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	kids := h.fake.Keys(IDTokenKeySet)
	if res.NewKID == "" || res.NewKID == old || !slices.Equal(kids, []string{res.NewKID, old}) || len(res.Retired) != 0 {
		t.Fatalf("result %+v, set %v", res, kids)
	}
	if res.JWKSURL != h.fake.URL+"/.well-known/jwks.json" {
		t.Fatalf("jwks url = %q", res.JWKSURL)
	}
	jwks := providertest.Get(t, res.JWKSURL)
	if !strings.Contains(jwks, res.NewKID) || !strings.Contains(jwks, old) {
		t.Fatalf("jwks lacks a key: %s", jwks)
	}
	post := h.fake.Requests()[1]
	if post.Method != http.MethodPost || string(post.Body) != `{"alg":"RS256","kid":"","use":"sig"}` {
		t.Fatalf("create request %s %s", post, post.Body)
	}
	providertest.NoPrivateKeys(t, h.fake.PrivateMembers(), res, plan)
}

func TestRetiringDeletesThePreviousKeysOnlyWhenAsked(t *testing.T) {
	h := newHarness(t)
	old := h.fake.AddKey(IDTokenKeySet)
	plan, err := h.p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{RetireOldAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan.Consequences, "\n"), "1h0m0s after the new key is published, the previous keys ("+old+") are deleted") {
		t.Fatalf("consequences = %v", plan.Consequences)
	}
	rotated, err := h.p.Rotate(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	// Rotate alone never retires: the old key keeps verifying until the
	// command has waited and asks.
	if len(rotated.Retired) != 0 || !slices.Contains(h.fake.Keys(IDTokenKeySet), old) {
		t.Fatalf("Rotate retired: %+v, set %v", rotated, h.fake.Keys(IDTokenKeySet))
	}
	res, err := h.p.RetireKeys(context.Background(), plan, rotated)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Retired, []string{old}) || !slices.Equal(h.fake.Keys(IDTokenKeySet), []string{res.NewKID}) {
		t.Fatalf("result %+v, set %v", res, h.fake.Keys(IDTokenKeySet))
	}
	if last := h.fake.Requests()[len(h.fake.Requests())-1]; last.String() != "DELETE /admin/keys/hydra.openid.id-token/"+old {
		t.Fatalf("last request %s", last)
	}
	if strings.Contains(providertest.Get(t, res.JWKSURL), old) {
		t.Fatal("the retired key is still published")
	}
}

func TestRotatingAnEmptySetCreatesItsFirstKey(t *testing.T) {
	h := newHarness(t)
	plan, err := h.p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{RetireOldAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.p.Rotate(context.Background(), plan)
	if err != nil || res.NewKID == "" || len(res.Retired) != 0 {
		t.Fatalf("res %+v err %v", res, err)
	}
}

func TestEncryptionKeysAreNotSupported(t *testing.T) {
	h := newHarness(t)
	_, err := h.p.PlanRotate(context.Background(), provider.KeyEncryption, provider.RotateOptions{})
	providertest.WantKind(t, err, errs.KindUnsupported, "no token encryption key")
}

func TestKeyErrorsNeverQuotePrivateMaterial(t *testing.T) {
	for _, fault := range []hydrafake.Fault{hydrafake.Forbidden, hydrafake.ServerError, hydrafake.HTMLPage} {
		h := newHarness(t)
		h.fake.AddKey(IDTokenKeySet)
		plan, err := h.p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h.fake.Fail(http.MethodPost, "", fault, 1)
		_, err = h.p.Rotate(context.Background(), plan)
		if err == nil {
			t.Fatalf("fault %v: no error", fault)
		}
		providertest.NoPrivateKeys(t, h.fake.PrivateMembers(), err.Error())
		h.fake.Fail(http.MethodGet, "", fault, 10)
		_, err = h.p.ListKeys(context.Background())
		if err == nil {
			t.Fatalf("fault %v: listing gave no error", fault)
		}
		providertest.NoPrivateKeys(t, h.fake.PrivateMembers(), err.Error())
	}
}
