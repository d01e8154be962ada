package okta_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func TestRevokingEveryAppEndsSessionsAndTokensOfTheUserFoundByLogin(t *testing.T) {
	f := setup(t, nil)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: login})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "all their OAuth 2.0 access and refresh tokens") || res.RequestID == "" {
		t.Fatalf("result %+v", res)
	}
	got := calls(f.srv)
	want := []string{
		"GET /api/v1/users/" + login,
		"DELETE /api/v1/users/" + userID + "/sessions?forgetDevices=false&oauthTokens=true",
	}
	if !slices.Equal(got[:2], want) {
		t.Fatalf("calls %q, want %q first", got, want)
	}
	for _, r := range f.srv.Requests() {
		if r.Authorization != "SSWS "+f.srv.Token() {
			t.Fatalf("Authorization %q", r.Authorization)
		}
	}
	if f.srv.Sessions(userID) != 0 || f.srv.RefreshTokens(userID, "") != 0 {
		t.Fatalf("sessions %d tokens %d remain", f.srv.Sessions(userID), f.srv.RefreshTokens(userID, ""))
	}
	// The longest access token lifetime of any active rule is 2h.
	if !strings.HasPrefix(res.StillValid, "up to 2h") {
		t.Fatalf("still valid %q", res.StillValid)
	}
}

func TestAnUnknownUserIsAnOutcomeNotAnError(t *testing.T) {
	f := setup(t, nil)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "nobody@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeUserNotFound || len(f.srv.Requests()) != 1 {
		t.Fatalf("result %+v after %q", res, calls(f.srv))
	}
}

func TestRevokingOneClientCountsFirstSoASecondCallHasNothingToRevoke(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	req := provider.RevokeUserRequest{User: userID, Client: clientID}
	res, err := f.p.RevokeUser(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "3 refresh token(s)") {
		t.Fatalf("first %+v", res)
	}
	if f.srv.RefreshTokens(userID, clientID) != 0 || f.srv.Sessions(userID) != 2 {
		t.Fatal("only the client's refresh tokens should be gone")
	}
	if !strings.HasPrefix(res.StillValid, "up to 1h") {
		t.Fatalf("still valid %q: the payroll policy's rule gives 60 minutes", res.StillValid)
	}
	f.srv.ClearRequests()
	res, err = f.p.RevokeUser(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeNothingToRevoke {
		t.Fatalf("second %+v", res)
	}
	if n := count(f.srv, "DELETE", "/api/v1/"); n != 0 {
		t.Fatalf("%d DELETE sent with nothing to revoke: %q", n, calls(f.srv))
	}
	want := []string{"GET /api/v1/users/" + userID, "GET /api/v1/users/" + userID + "/clients/" + clientID + "/tokens?limit=200"}
	if got := calls(f.srv); !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q (the lifetime is cached)", got, want)
	}
}

func TestRevokingGrantsToo(t *testing.T) {
	f := setup(t, nil)
	f.srv.AddGrants(userID, clientID, 2)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: userID, Client: clientID, Method: "grants"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "2 consent grant(s) revoked") || f.srv.Grants(userID, clientID) != 0 {
		t.Fatalf("result %+v, %d grants left", res, f.srv.Grants(userID, clientID))
	}
}

func TestRefreshTokensArePagedThrough(t *testing.T) {
	f := setup(t, nil)
	f.srv.AddRefreshTokens(userID, clientID, 250)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: userID, Client: clientID})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Detail, "253 refresh token(s)") || count(f.srv, "GET", "/api/v1/users/"+userID+"/clients") != 2 {
		t.Fatalf("detail %q after %q", res.Detail, calls(f.srv))
	}
}

func TestAnUnknownClientIsAUsageError(t *testing.T) {
	f := setup(t, nil)
	_, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: userID, Client: "0oaNope"})
	providertest.WantKind(t, err, errs.KindUsage, `no OAuth client "0oaNope"`)
}

func TestBadRevocationRequestsAreRefusedBeforeAnyRequest(t *testing.T) {
	f := setup(t, nil)
	tests := []struct {
		name string
		req  provider.RevokeUserRequest
	}{
		{"no user", provider.RevokeUserRequest{}},
		{"a login with a slash", provider.RevokeUserRequest{User: "a/b@example.com"}},
		{"an unknown method", provider.RevokeUserRequest{User: userID, Method: "deactivate"}},
		{"grants without a client", provider.RevokeUserRequest{User: userID, Method: "grants"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.p.RevokeUser(context.Background(), tt.req)
			providertest.WantKind(t, err, errs.KindUsage, "")
			_, err = f.p.PlanRevokeUser(tt.req)
			providertest.WantKind(t, err, errs.KindUsage, "")
		})
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestPlanRevokeUserSendsNothing(t *testing.T) {
	f := setup(t, nil)
	all, err := f.p.PlanRevokeUser(provider.RevokeUserRequest{User: login})
	if err != nil || len(all) != 2 || all[1].Method != "DELETE" || !strings.Contains(all[1].Path, "oauthTokens=true") {
		t.Fatalf("plan %v err %v", all, err)
	}
	one, err := f.p.PlanRevokeUser(provider.RevokeUserRequest{User: login, Client: clientID, Method: "grants"})
	if err != nil || len(one) != 5 {
		t.Fatalf("plan %v err %v", one, err)
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestRevocationErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name   string
		fault  oktafake.Fault
		kind   errs.Kind
		substr string
	}{
		{"401", oktafake.Fault401, errs.KindRefused, "E0000011"},
		{"403", oktafake.Fault403, errs.KindRefused, "E0000006"},
		{"429 past the longest wait", oktafake.Fault429, errs.KindNetwork, "the limit resets at"},
		{"500", oktafake.Fault500, errs.KindNetwork, "HTTP 500"},
		{"html page", oktafake.FaultHTML, errs.KindNetwork, "HTML page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, nil)
			f.srv.Inject(oktafake.Injection{Method: "DELETE", PathPrefix: "/api/v1/users/", Fault: tt.fault, Times: -1, ResetIn: time.Hour})
			_, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: userID})
			providertest.WantKind(t, err, tt.kind, tt.substr)
			providertest.NoSecrets(t, []string{f.srv.Token()}, err.Error())
			if tt.fault != oktafake.FaultHTML && !strings.Contains(err.Error(), "request id fake-req-") {
				t.Fatalf("no request id in %q", err)
			}
		})
	}
}

func TestAWrongTokenIsRefused(t *testing.T) {
	f := setup(t, nil)
	f.env.Auth.Secret = "not-the-token"
	_, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: userID})
	providertest.WantKind(t, err, errs.KindRefused, "HTTP 401")
}

func TestARateLimitIsWaitedOutUntilTheReset(t *testing.T) {
	f := setup(t, nil)
	f.srv.Inject(oktafake.Injection{Method: "GET", PathPrefix: "/api/v1/users/", Fault: oktafake.Fault429, ResetIn: 3 * time.Second})
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: userID})
	if err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("res %+v err %v", res, err)
	}
	waits := f.sleeps.All()
	if len(waits) != 1 || waits[0] < 2*time.Second || waits[0] > 4*time.Second {
		t.Fatalf("waited %v, want about 3s from X-Rate-Limit-Reset", waits)
	}
}
