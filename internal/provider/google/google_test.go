package google_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/fakekit"
	"github.com/idpctl/idpctl/internal/provider/google"
	"github.com/idpctl/idpctl/internal/provider/google/googlefake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

const admin = "admin@example.com"

func env(t *testing.T, f *googlefake.Fake) *provider.Env {
	t.Helper()
	e := providertest.Env(t, f.URL, &provider.AdminAuth{Secret: f.KeyFile()}, httpx.Options{Sleep: providertest.NoSleep})
	e.Settings = map[string]string{"subject": admin, "token_url": f.URL + "/token"}
	return e
}

func setup(t *testing.T) (*googlefake.Fake, *google.Provider, *providertest.Sleeps) {
	t.Helper()
	f := googlefake.New(t, admin)
	providertest.Watch(t, f.Close, f.Violations)
	sleeps := &providertest.Sleeps{}
	e := env(t, f)
	e.Sleep = sleeps.Sleep
	f.AddUser(googlefake.User{ID: "110001", Email: "ada@example.com", Aliases: []string{"ada.lovelace@example.com"}})
	f.AddUser(googlefake.User{ID: "110002", Email: "bob@example.com"})
	return f, providertest.Adapter[*google.Provider](t, google.New, e), sleeps
}

func TestRevokingSignsTheUserOutAndDeletesEveryApplicationsTokens(t *testing.T) {
	f, p, _ := setup(t)
	f.Grant(googlefake.Grant{UserID: "110001", ClientID: "1111.apps.googleusercontent.com", DisplayText: "Slack", Scopes: []string{"openid", "email"}})
	f.Grant(googlefake.Grant{UserID: "110001", ClientID: "2222.apps.googleusercontent.com", DisplayText: "Zoom"})
	f.Grant(googlefake.Grant{UserID: "110002", ClientID: "2222.apps.googleusercontent.com", DisplayText: "Zoom"})

	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada.lovelace@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "signed out") || !strings.Contains(res.Detail, "Slack") || !strings.Contains(res.Detail, "Zoom") {
		t.Fatalf("%+v", res)
	}
	if !strings.Contains(res.StillValid, "1 hour") {
		t.Errorf("still valid: %q", res.StillValid)
	}
	if f.SignOuts("110001") != 1 || len(f.Grants("110001")) != 0 {
		t.Fatalf("sign-outs %d, grants left %+v", f.SignOuts("110001"), f.Grants("110001"))
	}
	if f.SignOuts("110002") != 0 || len(f.Grants("110002")) != 1 {
		t.Fatal("another user was touched")
	}
	// One admin token for the whole run, fetched from the configured token
	// URL although the key file names Google's.
	if f.IssuedTokens() != 1 {
		t.Fatalf("%d admin tokens fetched", f.IssuedTokens())
	}
	var paths []string
	for _, r := range f.Requests() {
		paths = append(paths, r.Method+" "+r.Path)
	}
	want := []string{"POST /token", "POST /admin/directory/v1/users/ada.lovelace@example.com/signOut", "GET /admin/directory/v1/users/ada.lovelace@example.com/tokens",
		"DELETE /admin/directory/v1/users/ada.lovelace@example.com/tokens/1111.apps.googleusercontent.com", "DELETE /admin/directory/v1/users/ada.lovelace@example.com/tokens/2222.apps.googleusercontent.com"}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
	providertest.NoSecrets(t, []string{"PRIVATE KEY", "ya29."}, res)
}

func TestWithAClientOnlyThatApplicationsTokensGoAndTheUserStaysSignedIn(t *testing.T) {
	f, p, _ := setup(t)
	f.Grant(googlefake.Grant{UserID: "110001", ClientID: "1111.apps.googleusercontent.com", DisplayText: "Slack"})
	f.Grant(googlefake.Grant{UserID: "110001", ClientID: "2222.apps.googleusercontent.com", DisplayText: "Zoom"})
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "110001", Client: "2222.apps.googleusercontent.com"})
	if err != nil || res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "Zoom") || strings.Contains(res.Detail, "Slack") {
		t.Fatalf("%+v, %v", res, err)
	}
	if left := f.Grants("110001"); len(left) != 1 || left[0].DisplayText != "Slack" {
		t.Fatalf("left %+v", left)
	}
	if f.SignOuts("110001") != 0 {
		t.Fatal("a client-limited revocation signed the user out of Google")
	}
	res, err = p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "110001", Client: "2222.apps.googleusercontent.com"})
	if err != nil || res.Outcome != provider.OutcomeNothingToRevoke {
		t.Fatalf("second run: %+v, %v", res, err)
	}
}

func TestAnUnknownUserIsNotFound(t *testing.T) {
	_, p, _ := setup(t)
	for _, req := range []provider.RevokeUserRequest{{User: "gone@example.com"}, {User: "gone@example.com", Client: "1111.apps.googleusercontent.com"}} {
		res, err := p.RevokeUser(context.Background(), req)
		if err != nil || res.Outcome != provider.OutcomeUserNotFound {
			t.Fatalf("%+v: %+v, %v", req, res, err)
		}
	}
}

func TestAUserWithoutGrantsIsStillSignedOut(t *testing.T) {
	f, p, _ := setup(t)
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "bob@example.com"})
	if err != nil || res.Outcome != provider.OutcomeRevoked || !strings.Contains(res.Detail, "no application grants") || f.SignOuts("110002") != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestQuotaAnswersAreRetriedWithBackoff(t *testing.T) {
	f, p, sleeps := setup(t)
	f.Grant(googlefake.Grant{UserID: "110001", ClientID: "1111.apps.googleusercontent.com", DisplayText: "Slack"})
	f.Faults.Inject(fakekit.Injection{Method: http.MethodPost, PathPrefix: "/admin/", Fault: googlefake.QuotaForbidden})
	f.Faults.Inject(fakekit.Injection{Method: http.MethodGet, Fault: fakekit.RateLimited})
	f.Faults.Inject(fakekit.Injection{Method: http.MethodDelete, Fault: googlefake.QuotaForbidden, Times: 2})
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com"})
	if err != nil || res.Outcome != provider.OutcomeRevoked || len(f.Grants("110001")) != 0 || f.SignOuts("110001") != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	// 403 quota: 1s, then 1s and 2s on the delete; the 429 without
	// Retry-After takes the base's first backoff.
	got := sleeps.All()
	want := []time.Duration{time.Second, 500 * time.Millisecond, time.Second, 2 * time.Second}
	if len(got) != len(want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits %v, want %v", got, want)
		}
	}
}

func TestQuotaThatDoesNotLiftIsANetworkError(t *testing.T) {
	f, p, _ := setup(t)
	f.Faults.Inject(fakekit.Injection{PathPrefix: "/admin/", Fault: googlefake.QuotaForbidden, Times: -1})
	_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com"})
	providertest.WantKind(t, err, errs.KindNetwork, "userRateLimitExceeded")
}

func TestRefusalsAndProxyPagesAreClassified(t *testing.T) {
	cases := []struct {
		fault fakekit.Fault
		kind  errs.Kind
		text  string
	}{
		{fakekit.Unauthorized, errs.KindRefused, "HTTP 401"},
		{fakekit.Forbidden, errs.KindRefused, "forbidden"},
		{fakekit.HTMLPage, errs.KindNetwork, "HTML"},
		{fakekit.ServerError, errs.KindNetwork, "backendError"},
	}
	for _, c := range cases {
		t.Run(c.fault.String(), func(t *testing.T) {
			f, p, _ := setup(t)
			f.Faults.Inject(fakekit.Injection{PathPrefix: "/admin/", Fault: c.fault, Times: -1})
			_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com"})
			providertest.WantKind(t, err, c.kind, c.text)
			if strings.Contains(err.Error(), "ya29.") || strings.Contains(err.Error(), "PRIVATE") {
				t.Fatalf("the error carries a credential: %v", err)
			}
		})
	}
}

func TestTheTokenEndpointsRefusalsSayWhatToFix(t *testing.T) {
	t.Run("no delegation", func(t *testing.T) {
		f, p, _ := setup(t)
		f.Delegated = false
		_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com"})
		providertest.WantKind(t, err, errs.KindRefused, "domain-wide delegation")
	})
	t.Run("not an admin", func(t *testing.T) {
		f, p, _ := setup(t)
		f.Admin = "someone-else@example.com"
		_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com"})
		providertest.WantKind(t, err, errs.KindRefused, "subject")
	})
}

func TestTheAdapterNeedsASubjectAndAKeyFile(t *testing.T) {
	f := googlefake.New(t, admin)
	providertest.Watch(t, f.Close, f.Violations)
	e := env(t, f)
	delete(e.Settings, "subject")
	_, err := google.New(e)
	providertest.WantKind(t, err, errs.KindUsage, "subject=")

	e = env(t, f)
	e.Auth.Secret = `{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nnot-a-key-material-123\n"`
	p := providertest.Adapter[*google.Provider](t, google.New, e)
	_, err = p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com"})
	providertest.WantKind(t, err, errs.KindUsage, "service account key file")
	if strings.Contains(err.Error(), "not-a-key-material") {
		t.Fatalf("the error quotes the key: %v", err)
	}

	e = env(t, f)
	e.Auth.Secret = ""
	p = providertest.Adapter[*google.Provider](t, google.New, e)
	_, err = p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com"})
	providertest.WantKind(t, err, errs.KindUsage, "IDPCTL_ADMIN_SECRET_FILE")
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests without a credential", n)
	}
}

func TestThePlanNamesTheRealEndpointsAndTheScope(t *testing.T) {
	_, p, _ := setup(t)
	text := func(req provider.RevokeUserRequest) string {
		calls, err := p.PlanRevokeUser(req)
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, c := range calls {
			all = append(all, c.String())
		}
		return strings.Join(all, "\n")
	}
	all := text(provider.RevokeUserRequest{User: "ada@example.com"})
	for _, want := range []string{"POST /admin/directory/v1/users/ada@example.com/signOut", "GET /admin/directory/v1/users/ada@example.com/tokens", "DELETE /admin/directory/v1/users/ada@example.com/tokens/{clientId}", google.Scope} {
		if !strings.Contains(all, want) {
			t.Errorf("plan lacks %q:\n%s", want, all)
		}
	}
	one := text(provider.RevokeUserRequest{User: "ada@example.com", Client: "2222.apps.googleusercontent.com"})
	if strings.Contains(one, "signOut") || !strings.Contains(one, "DELETE /admin/directory/v1/users/ada@example.com/tokens/2222.apps.googleusercontent.com") {
		t.Errorf("client plan:\n%s", one)
	}
	if got := p.Permissions(); len(got) != 1 || got[0] != google.Scope {
		t.Errorf("permissions %v", got)
	}
}

func TestARefusedAdminTokenIsFetchedAgainOnce(t *testing.T) {
	f, p, _ := setup(t)
	if _, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	f.RevokeIssued()
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "bob@example.com"})
	if err != nil || res.Outcome != provider.OutcomeRevoked || f.IssuedTokens() != 2 {
		t.Fatalf("%+v, %v, %d tokens", res, err, f.IssuedTokens())
	}
	// A token refused again is not fetched a third time in a loop.
	f.Faults.Inject(fakekit.Injection{PathPrefix: "/admin/", Fault: fakekit.Unauthorized, Times: -1})
	_, err = p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "bob@example.com"})
	providertest.WantKind(t, err, errs.KindRefused, "401")
	if f.IssuedTokens() != 3 {
		t.Fatalf("%d tokens fetched, want one more", f.IssuedTokens())
	}
}

// doctor's probe: obtaining the admin token proves the key and its
// delegation, and listing the subject's own grants proves the scope.
func TestTheAccessProbeReadsTheAdminsOwnGrants(t *testing.T) {
	f, p, _ := setup(t)
	f.AddUser(googlefake.User{ID: "100000", Email: admin})
	got, err := p.ProbeAccess(context.Background())
	if err != nil || !strings.Contains(got, admin) {
		t.Fatalf("%q, %v", got, err)
	}
	var paths []string
	for _, r := range f.Requests() {
		paths = append(paths, r.Method+" "+r.Path)
	}
	if strings.Join(paths, ", ") != "POST /token, GET /admin/directory/v1/users/"+admin+"/tokens" {
		t.Fatalf("requests: %v", paths)
	}

	// Without the subject as a user, the probe says so rather than
	// asking for a scope.
	_, p1, _ := setup(t)
	_, err = p1.ProbeAccess(context.Background())
	providertest.WantKind(t, err, errs.KindUsage, "is not a user of the domain")

	f2, p2, _ := setup(t)
	f2.Delegated = false
	_, err = p2.ProbeAccess(context.Background())
	providertest.WantKind(t, err, errs.KindRefused, "domain-wide delegation")
}

// Google cannot say whether a client id exists: a --client the user holds
// no grant to is nothing to revoke, naming the grants the user does hold
// so that a mistyped id shows.
func TestAClientWithoutAGrantNamesTheGrantsTheUserHolds(t *testing.T) {
	f, p, _ := setup(t)
	f.Grant(googlefake.Grant{UserID: "110001", ClientID: "1111.apps.googleusercontent.com", DisplayText: "Slack"})
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@example.com", Client: "1112.apps.googleusercontent.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeNothingToRevoke || !strings.Contains(res.Detail, "Slack (1111.apps.googleusercontent.com)") || !strings.Contains(res.Detail, "cannot tell") {
		t.Fatalf("%+v", res)
	}
	if len(f.Grants("110001")) != 1 {
		t.Fatal("a grant was deleted")
	}
}
