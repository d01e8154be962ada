package webex_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/fakekit"
	"github.com/idpctl/idpctl/internal/provider/providertest"
	"github.com/idpctl/idpctl/internal/provider/webex"
	"github.com/idpctl/idpctl/internal/provider/webex/webexfake"
)

const token = "webex-admin-token-0123456789"

func setup(t *testing.T) (*webexfake.Fake, *webex.Provider, *providertest.Sleeps) {
	t.Helper()
	f := webexfake.New(t, token)
	providertest.Watch(t, f.Close, f.Violations)
	sleeps := &providertest.Sleeps{}
	env := providertest.Env(t, f.URL+"/v1", &provider.AdminAuth{Secret: token}, httpx.Options{Sleep: providertest.NoSleep})
	env.Sleep = sleeps.Sleep
	f.AddPerson(webexfake.Person{ID: "p-ada", Email: "ada@example.com", Name: "Ada"})
	f.AddPerson(webexfake.Person{ID: "p-bob", Email: "bob@example.com", Name: "Bob"})
	return f, providertest.Adapter[*webex.Provider](t, webex.New, env), sleeps
}

func TestRevokingAUserDeletesEveryAuthorizationAndNamesEachIntegration(t *testing.T) {
	f, p, _ := setup(t)
	f.Grant("p-ada", "C1", "Jira Cloud", "refresh")
	f.Grant("p-ada", "C1", "Jira Cloud", "access")
	f.Grant("p-ada", "C2", "Developer Portal", "refresh")
	f.Grant("p-bob", "C2", "Developer Portal", "refresh")

	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "Ada@Example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("outcome %q: %+v", res.Outcome, res)
	}
	for _, name := range []string{"Jira Cloud (refresh)", "Jira Cloud (access)", "Developer Portal (refresh)"} {
		if !strings.Contains(res.Detail, name) {
			t.Errorf("detail %q does not name %q", res.Detail, name)
		}
	}
	if left := f.Authorizations("p-ada"); len(left) != 0 {
		t.Fatalf("authorizations left: %+v", left)
	}
	if left := f.Authorizations("p-bob"); len(left) != 1 {
		t.Fatalf("another user's authorization was touched: %+v", left)
	}
}

func TestWithAClientOnlyThatClientsAuthorizationsGo(t *testing.T) {
	f, p, _ := setup(t)
	f.Grant("p-ada", "C1", "Jira Cloud", "refresh")
	f.Grant("p-ada", "C2", "Developer Portal", "refresh")
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "p-ada", Client: "C2"})
	if err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("%+v, %v", res, err)
	}
	left := f.Authorizations("p-ada")
	if len(left) != 1 || left[0].ClientID != "C1" {
		t.Fatalf("left %+v, want only C1's", left)
	}
	res, err = p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "p-ada", Client: "C2"})
	if err != nil || res.Outcome != provider.OutcomeNothingToRevoke {
		t.Fatalf("second run: %+v, %v", res, err)
	}
}

func TestAnUnknownPersonIsNotFoundNotNothingToRevoke(t *testing.T) {
	_, p, _ := setup(t)
	for _, user := range []string{"gone@example.com", "p-nobody"} {
		res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: user})
		if err != nil || res.Outcome != provider.OutcomeUserNotFound {
			t.Fatalf("%s: %+v, %v", user, res, err)
		}
	}
}

func TestAKnownPersonWithoutAuthorizationsHasNothingToRevoke(t *testing.T) {
	_, p, _ := setup(t)
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "bob@example.com"})
	if err != nil || res.Outcome != provider.OutcomeNothingToRevoke {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestA429IsWaitedOutByRetryAfterOnIdempotentCalls(t *testing.T) {
	f, p, sleeps := setup(t)
	f.Grant("p-ada", "C1", "Jira Cloud", "refresh")
	f.Faults.Inject(fakekit.Injection{Method: http.MethodDelete, Fault: fakekit.RateLimited})
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com"})
	if err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := sleeps.All(); len(got) != 1 || got[0].Seconds() != 2 {
		t.Fatalf("waits %v, want one of 2s (Retry-After)", got)
	}
}

func TestRefusalsAndProxyPagesAreClassified(t *testing.T) {
	cases := []struct {
		fault fakekit.Fault
		kind  errs.Kind
	}{
		{fakekit.Unauthorized, errs.KindRefused},
		{fakekit.Forbidden, errs.KindRefused},
		{fakekit.HTMLPage, errs.KindNetwork},
	}
	for _, c := range cases {
		t.Run(c.fault.String(), func(t *testing.T) {
			f, p, _ := setup(t)
			f.Faults.Inject(fakekit.Injection{Fault: c.fault, Times: -1})
			_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com"})
			providertest.WantKind(t, err, c.kind, "")
			if strings.Contains(err.Error(), token) {
				t.Fatalf("the error carries the admin token: %v", err)
			}
		})
	}
}

func TestThePlanNamesTheRealEndpointsAndScopes(t *testing.T) {
	_, p, _ := setup(t)
	calls, err := p.PlanRevokeUser(provider.RevokeUserRequest{User: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, c := range calls {
		all = append(all, c.String())
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{"GET /v1/people?email=ada%40example.com", "GET /v1/authorizations?personId={personId}", "DELETE /v1/authorizations/{authorizationId}", webex.ScopeTokensWrite, webex.ScopePeopleRead} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
}

// doctor's probe: an unfiltered people listing, which only an admin's
// token may make, proves the token is accepted without changing anything.
func TestTheAccessProbeListsOnePersonOfTheOrganisation(t *testing.T) {
	f, p, _ := setup(t)
	got, err := p.ProbeAccess(context.Background())
	if err != nil || got == "" {
		t.Fatalf("%q, %v", got, err)
	}
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/v1/people" || reqs[0].Query.Encode() != "max=1" {
		t.Fatalf("requests %+v", reqs)
	}
	f.Faults.Inject(fakekit.Injection{Fault: fakekit.Forbidden, Times: -1})
	_, err = p.ProbeAccess(context.Background())
	providertest.WantKind(t, err, errs.KindRefused, "403")
}

// Webex's integrations cannot be read with these scopes: a --client the
// user has not authorized is nothing to revoke, naming what the user did
// authorize so that a mistyped id shows.
func TestAClientWithoutAuthorizationsNamesWhatTheUserHolds(t *testing.T) {
	f, p, _ := setup(t)
	f.Grant("p-ada", "C1", "Jira Cloud", "refresh")
	f.Grant("p-ada", "C1", "Jira Cloud", "access")
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com", Client: "C7"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeNothingToRevoke || !strings.HasSuffix(res.Detail, "the user holds authorizations of: Jira Cloud (C1)") {
		t.Fatalf("%+v", res)
	}
	if len(f.Authorizations("p-ada")) != 2 {
		t.Fatal("an authorization was deleted")
	}
}
