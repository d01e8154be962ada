package auth0_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/auth0"
	"github.com/idpctl/idpctl/internal/provider/auth0/auth0fake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func TestRevokingEveryAppIsAcceptedAndSaysItIsAsynchronous(t *testing.T) {
	f := setup(t, map[string]string{"api": apiIdentifier})
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeAccepted || !strings.Contains(res.Detail, "asynchronously") {
		t.Fatalf("result %+v", res)
	}
	want := []string{
		"DELETE /api/v2/users/auth0|alice/refresh-tokens",
		"DELETE /api/v2/users/auth0|alice/sessions",
	}
	if got := calls(f.srv); !slices.Equal(got[:2], want) {
		t.Fatalf("calls %q", got)
	}
	if f.srv.RefreshTokens(alice, "") != 0 || f.srv.Sessions(alice) != 0 {
		t.Fatal("tokens or sessions remain")
	}
	if !strings.HasPrefix(res.StillValid, "up to 1d") || !strings.Contains(res.StillValid, apiIdentifier) {
		t.Fatalf("still valid %q", res.StillValid)
	}
}

func TestWithoutAnAPIHowLongAccessTokensLiveIsNotClaimed(t *testing.T) {
	f := setup(t, nil)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice})
	if err != nil || res.StillValid != "" {
		t.Fatalf("result %+v err %v", res, err)
	}
}

func TestAUserGivenByEmailIsLookedUp(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	res, err := f.p.RevokeUser(ctx, provider.RevokeUserRequest{User: email})
	if err != nil || res.Outcome != provider.OutcomeAccepted || !strings.HasPrefix(res.Detail, "user auth0|alice: ") {
		t.Fatalf("result %+v err %v", res, err)
	}
	if got := calls(f.srv); got[0] != "GET /api/v2/users-by-email?email=alice%40example.com" {
		t.Fatalf("calls %q", got)
	}

	res, err = f.p.RevokeUser(ctx, provider.RevokeUserRequest{User: "nobody@example.com"})
	if err != nil || res.Outcome != provider.OutcomeUserNotFound {
		t.Fatalf("result %+v err %v", res, err)
	}

	f.srv.AddUser(auth0fake.User{ID: "google-oauth2|123", Email: email})
	_, err = f.p.RevokeUser(ctx, provider.RevokeUserRequest{User: email})
	providertest.WantKind(t, err, errs.KindUsage, "auth0|alice, google-oauth2|123")
}

func TestAnUnknownUserIsAnOutcomeNotAnError(t *testing.T) {
	f := setup(t, nil)
	for _, client := range []string{"", app1} {
		res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "auth0|nobody", Client: client})
		if err != nil || res.Outcome != provider.OutcomeUserNotFound {
			t.Fatalf("client %q: result %+v err %v", client, res, err)
		}
	}
}

func TestRevokingOneClientAsksTheRevokeEndpoint(t *testing.T) {
	f := setup(t, nil)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice, Client: app1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeAccepted || !strings.Contains(res.Detail, "client "+app1) {
		t.Fatalf("result %+v", res)
	}
	var body map[string]string
	for _, r := range f.srv.Requests() {
		if r.Path == "/api/v2/refresh-tokens/revoke" {
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(body) != 2 || body["user_id"] != alice || body["client_id"] != app1 {
		t.Fatalf("body %v", body)
	}
	if f.srv.RefreshTokens(alice, app1) != 0 || f.srv.RefreshTokens(alice, app2) != 1 || f.srv.Sessions(alice) != 2 {
		t.Fatal("more than the client's refresh tokens went")
	}
}

// The revoke endpoint may accept and the device-credentials listing
// answers empty for a client id Auth0 does not know: a mistyped --client
// is refused before anything is sent, and an existing one is read once.
func TestAMistypedClientIsRefusedAndAKnownOneReadOnce(t *testing.T) {
	for _, mode := range []auth0fake.Availability{auth0fake.Available, auth0fake.NotFound} {
		f := setup(t, nil)
		f.srv.SetRevokeAPI(mode)
		_, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice, Client: "app-typo"})
		providertest.WantKind(t, err, errs.KindUsage, `no application with client id "app-typo"`)
		for _, r := range f.srv.Requests() {
			if r.Method != http.MethodGet && r.Path != "/oauth/token" {
				t.Fatalf("mode %v: sent %s %s", mode, r.Method, r.Path)
			}
		}
	}
	f := setup(t, nil)
	for range 2 {
		if _, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice, Client: app1}); err != nil {
			t.Fatal(err)
		}
	}
	reads := 0
	for _, r := range f.srv.Requests() {
		if r.Method == http.MethodGet && r.Path == "/api/v2/clients/"+app1 {
			reads++
		}
	}
	if reads != 1 {
		t.Fatalf("%d reads of the client for two revocations", reads)
	}
}

func TestWithoutTheRevokeEndpointDeviceCredentialsAreDeletedOneByOne(t *testing.T) {
	for _, mode := range []auth0fake.Availability{auth0fake.NotFound, auth0fake.NotEnabled} {
		f := setup(t, nil)
		f.srv.SetRevokeAPI(mode)
		ctx := context.Background()
		req := provider.RevokeUserRequest{User: alice, Client: app1}
		res, err := f.p.RevokeUser(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "2 refresh token(s)") {
			t.Fatalf("mode %v: result %+v", mode, res)
		}
		if count(f.srv, "DELETE", "/api/v2/device-credentials/") != 2 || f.srv.RefreshTokens(alice, app2) != 1 {
			t.Fatalf("calls %q", calls(f.srv))
		}
		if got := calls(f.srv); !slices.Contains(got, "GET /api/v2/device-credentials?client_id="+app1+"&include_totals=true&page=0&per_page=1000&type=refresh_token&user_id=auth0%7Calice") {
			t.Fatalf("calls %q", got)
		}
		res, err = f.p.RevokeUser(ctx, req)
		if err != nil || res.Outcome != provider.OutcomeNothingToRevoke {
			t.Fatalf("second: result %+v err %v", res, err)
		}
	}
}

func TestAScopeRefusalIsNotMistakenForAMissingEndpoint(t *testing.T) {
	f := setup(t, nil)
	f.srv.Inject(auth0fake.Injection{Method: "POST", PathPrefix: "/api/v2/refresh-tokens", Fault: auth0fake.Fault403})
	_, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice, Client: app1})
	providertest.WantKind(t, err, errs.KindRefused, "insufficient_scope")
	if n := count(f.srv, "GET", "/api/v2/device-credentials"); n != 0 {
		t.Fatal("fell back after a refusal")
	}
}

func TestATenantWithoutTheUserAPIsStillLosesEveryRefreshToken(t *testing.T) {
	f := setup(t, nil)
	f.srv.SetUserAPIs(auth0fake.NotEnabled)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "3 refresh token(s) deleted") || !strings.Contains(res.Detail, "sessions kept") {
		t.Fatalf("result %+v", res)
	}
	if f.srv.RefreshTokens(alice, "") != 0 || f.srv.Sessions(alice) != 2 {
		t.Fatal("state")
	}
}

func TestRevocationErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name   string
		fault  auth0fake.Fault
		kind   errs.Kind
		substr string
	}{
		{"401 even after a new token", auth0fake.Fault401, errs.KindRefused, "HTTP 401"},
		{"403", auth0fake.Fault403, errs.KindRefused, "insufficient_scope"},
		{"429 past the longest wait", auth0fake.Fault429, errs.KindNetwork, "the limit resets at"},
		{"500", auth0fake.Fault500, errs.KindNetwork, "HTTP 500"},
		{"html page", auth0fake.FaultHTML, errs.KindNetwork, "HTML page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, nil)
			f.srv.Inject(auth0fake.Injection{Method: "DELETE", Fault: tt.fault, Times: -1, ResetIn: time.Hour})
			_, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice})
			providertest.WantKind(t, err, tt.kind, tt.substr)
			providertest.NoSecrets(t, []string{"mgmt-token-", f.srv.ClientSecret()}, err.Error())
		})
	}
}

func TestASessionFailureAfterAcceptedTokensSaysWhatWasDone(t *testing.T) {
	f := setup(t, nil)
	f.srv.Inject(auth0fake.Injection{Method: "DELETE", PathPrefix: "/api/v2/users/auth0|alice/sessions", Fault: auth0fake.Fault500})
	_, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice})
	providertest.WantKind(t, err, errs.KindNetwork, "accepted deleting all refresh tokens")
}

func TestARateLimitIsWaitedOutUntilTheReset(t *testing.T) {
	f := setup(t, nil)
	f.srv.Inject(auth0fake.Injection{Method: "DELETE", Fault: auth0fake.Fault429, ResetIn: 2 * time.Second})
	if _, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice}); err != nil {
		t.Fatal(err)
	}
	waits := f.sleeps.All()
	if len(waits) != 1 || waits[0] < time.Second || waits[0] > 3*time.Second {
		t.Fatalf("waited %v, want about 2s from X-RateLimit-Reset", waits)
	}
}

func TestBadRevocationRequestsAreRefusedBeforeAnyRequest(t *testing.T) {
	f := setup(t, nil)
	for _, req := range []provider.RevokeUserRequest{{}, {User: alice, Method: "grants"}} {
		_, err := f.p.RevokeUser(context.Background(), req)
		providertest.WantKind(t, err, errs.KindUsage, "")
		_, err = f.p.PlanRevokeUser(req)
		providertest.WantKind(t, err, errs.KindUsage, "")
	}
	plan, err := f.p.PlanRevokeUser(provider.RevokeUserRequest{User: email, Client: app1})
	if err != nil || len(plan) != 6 || plan[1].Path != "/api/v2/clients/"+app1 || plan[2].Path != "/api/v2/refresh-tokens/revoke" {
		t.Fatalf("plan %v err %v", plan, err)
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

// Applications with refresh-token rotation (the default of single-page
// apps) hold rotating_refresh_token credentials, and a listing page holds
// 50 unless asked for more: both used to survive the fallback.
func TestTheDeviceCredentialFallbackDeletesBothTypesOnEveryPage(t *testing.T) {
	for _, client := range []string{app1, ""} {
		t.Run("client "+client, func(t *testing.T) {
			f := setup(t, nil)
			f.srv.SetRevokeAPI(auth0fake.NotFound)
			f.srv.SetUserAPIs(auth0fake.NotEnabled)
			f.srv.AddRefreshTokens(alice, app1, 58)                                          // 60 non-rotating for app1
			f.srv.AddTypedRefreshTokens(alice, app1, auth0fake.TypeRotatingRefreshToken, 30) // and 30 rotating
			auth0.SetPerPage(f.p, 25)
			res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice, Client: client})
			if err != nil {
				t.Fatal(err)
			}
			want := 90
			if client == "" {
				want = 91 // and app2's one
			}
			if res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, fmt.Sprintf("%d refresh token(s)", want)) {
				t.Fatalf("result %+v", res)
			}
			if n := f.srv.RefreshTokens(alice, ""); client == "" && n != 0 || client != "" && n != 1 {
				t.Fatalf("%d refresh tokens left", n)
			}
			var pages []string
			for _, r := range f.srv.Requests() {
				if r.Method == "GET" && r.Path == "/api/v2/device-credentials" {
					if r.Query.Get("include_totals") != "true" || r.Query.Get("per_page") != "25" {
						t.Fatalf("listing query %v", r.Query)
					}
					pages = append(pages, r.Query.Get("type")+":"+r.Query.Get("page"))
				}
			}
			wantPages := []string{"refresh_token:0", "refresh_token:1", "refresh_token:2", "rotating_refresh_token:0", "rotating_refresh_token:1"}
			if !slices.Equal(pages, wantPages) {
				t.Fatalf("pages read %v, want %v", pages, wantPages)
			}
		})
	}
}

func TestTheDeviceCredentialFallbackTellsAnUnknownUserFromOneWithoutTokens(t *testing.T) {
	f := setup(t, nil)
	f.srv.SetRevokeAPI(auth0fake.NotFound)
	f.srv.SetUserAPIs(auth0fake.NotEnabled)
	f.srv.AddUser(auth0fake.User{ID: "auth0|bob", Email: "bob@example.com"})
	for _, client := range []string{app1, ""} {
		res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "auth0|nobody", Client: client})
		if err != nil || res.Outcome != provider.OutcomeUserNotFound {
			t.Fatalf("unknown user, client %q: result %+v err %v", client, res, err)
		}
		res, err = f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "auth0|bob", Client: client})
		if err != nil || res.Outcome != provider.OutcomeNothingToRevoke {
			t.Fatalf("user without tokens, client %q: result %+v err %v", client, res, err)
		}
	}
}

// users-by-email is case-sensitive: the address is tried as typed and
// lower-cased, so neither "Alice@Example.com" for a lower-case address nor
// an address stored with capitals is missed.
func TestAnEmailIsLookedUpAsTypedAndLowerCased(t *testing.T) {
	f := setup(t, nil)
	f.srv.AddUser(auth0fake.User{ID: "samlp|acme|Bob", Email: "Bob.Smith@Example.com"})
	tests := []struct{ typed, want string }{
		{"Alice@Example.com", alice},
		{"Bob.Smith@Example.com", "samlp|acme|Bob"},
	}
	for _, tt := range tests {
		res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: tt.typed})
		if err != nil || res.Outcome != provider.OutcomeAccepted || !strings.HasPrefix(res.Detail, "user "+tt.want+": ") {
			t.Fatalf("%s: result %+v err %v", tt.typed, res, err)
		}
	}
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "Nobody@Example.com"})
	if err != nil || res.Outcome != provider.OutcomeUserNotFound {
		t.Fatalf("unknown: result %+v err %v", res, err)
	}
	plan, err := f.p.PlanRevokeUser(provider.RevokeUserRequest{User: "Alice@Example.com"})
	if err != nil || len(plan) < 2 || plan[1].Path != "/api/v2/users-by-email?email=alice%40example.com" {
		t.Fatalf("plan %v err %v", plan, err)
	}
}

// A server that ignores include_totals (a bare array) is paged until a
// short page, and a credential of another type than asked for, such as a
// public key were the type filter ignored, is never deleted.
func TestTheDeviceCredentialListingToleratesBareArraysAndNeverDeletesPublicKeys(t *testing.T) {
	var mu sync.Mutex
	var deleted []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v2/clients/app":
			w.Write([]byte(`{"client_id":"app","name":"App"}`))
		case r.Method == http.MethodPost && r.URL.Path == "/api/v2/refresh-tokens/revoke":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"statusCode":404,"error":"Not Found","message":"Not Found"}`))
		case r.Method == http.MethodGet && r.URL.Path == "/api/v2/device-credentials":
			typ, page := r.URL.Query().Get("type"), r.URL.Query().Get("page")
			switch {
			case typ == "refresh_token" && page == "0":
				w.Write([]byte(`[{"id":"dcr_1","client_id":"app","type":"refresh_token"},{"id":"pk_1","client_id":"app","type":"public_key"}]`))
			case typ == "refresh_token" && page == "1":
				w.Write([]byte(`[{"id":"dcr_2","client_id":"app","type":"refresh_token"}]`))
			default:
				w.Write([]byte(`[]`))
			}
		case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/v2/device-credentials/"):
			deleted = append(deleted, strings.TrimPrefix(r.URL.Path, "/api/v2/device-credentials/"))
			w.WriteHeader(http.StatusNoContent)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	defer srv.Close()
	env := providertest.Env(t, srv.URL, &provider.AdminAuth{Scheme: provider.AuthBearer, Secret: "mgmt"}, httpx.Options{Sleep: providertest.NoSleep})
	env.Sleep = providertest.NoSleep
	env.Settings = map[string]string{}
	p := providertest.Adapter[*auth0.Provider](t, auth0.New, env)
	auth0.SetPerPage(p, 2)
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: alice, Client: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || !slices.Equal(deleted, []string{"dcr_1", "dcr_2"}) {
		t.Fatalf("result %+v, deleted %v", res, deleted)
	}
}
