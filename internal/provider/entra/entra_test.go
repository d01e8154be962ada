package entra_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/entra"
	"github.com/idpctl/idpctl/internal/provider/entra/entrafake"
	"github.com/idpctl/idpctl/internal/provider/fakekit"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

const (
	tenant = "contoso.onmicrosoft.com"
	secret = "entra-admin-secret-0123456789"
)

func setup(t *testing.T) (*entrafake.Fake, *entra.Provider, *providertest.Sleeps) {
	t.Helper()
	f := entrafake.New(t, tenant, "admin-app", secret)
	providertest.Watch(t, f.Close, f.Violations)
	sleeps := &providertest.Sleeps{}
	env := providertest.Env(t, f.URL, &provider.AdminAuth{Scheme: provider.AuthClientCredentials, ClientID: "admin-app", Secret: secret}, httpx.Options{Sleep: providertest.NoSleep})
	env.Settings = map[string]string{"tenant": tenant, "authority": f.URL}
	env.Sleep = sleeps.Sleep
	f.AddUser(entrafake.User{ID: "u-ada", UPN: "ada@contoso.com", Mail: "ada.lovelace@contoso.com"})
	f.AddUser(entrafake.User{ID: "u-bob", UPN: "bob@contoso.com", Mail: "bob@contoso.com"})
	f.AddApp(entrafake.App{ID: "obj-crm", AppID: "app-crm", SPID: "sp-crm", Name: "CRM"})
	f.AddApp(entrafake.App{ID: "obj-wiki", AppID: "app-wiki", SPID: "sp-wiki", Name: "Wiki"})
	return f, providertest.Adapter[*entra.Provider](t, entra.New, env), sleeps
}

func TestRevokingByUPNOrMailEndsTheUsersSessionsAndSaysWhatStaysValid(t *testing.T) {
	for _, who := range []string{"ada@contoso.com", "ADA@contoso.com", "ada.lovelace@contoso.com", "u-ada"} {
		t.Run(who, func(t *testing.T) {
			f, p, _ := setup(t)
			res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: who})
			if err != nil || res.Outcome != provider.OutcomeRevoked {
				t.Fatalf("%+v, %v", res, err)
			}
			if f.Revocations("u-ada") != 1 || f.Revocations("u-bob") != 0 {
				t.Fatalf("revocations ada=%d bob=%d", f.Revocations("u-ada"), f.Revocations("u-bob"))
			}
			if !strings.Contains(res.StillValid, "continuous access evaluation") || !strings.Contains(res.StillValid, "60 to 90 minutes") {
				t.Errorf("still valid: %q", res.StillValid)
			}
			if f.TokenRequests() != 1 {
				t.Errorf("%d admin token requests", f.TokenRequests())
			}
		})
	}
}

func TestAnUnknownUserIsNotFoundAndNothingIsRevoked(t *testing.T) {
	f, p, _ := setup(t)
	for _, who := range []string{"gone@contoso.com", "u-gone"} {
		res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: who})
		if err != nil || res.Outcome != provider.OutcomeUserNotFound {
			t.Fatalf("%s: %+v, %v", who, res, err)
		}
	}
	if f.Revocations("u-ada")+f.Revocations("u-bob") != 0 {
		t.Fatal("a revocation was sent for an unknown user")
	}
}

func TestWithAClientTheUsersOwnConsentToThatAppIsDeletedOnEveryPage(t *testing.T) {
	f, p, _ := setup(t)
	f.PageSize = 2
	f.AddGrant(entrafake.Grant{ID: "g1", ClientID: "sp-crm", ConsentType: "Principal", PrincipalID: "u-ada", Scope: "User.Read"})
	f.AddGrant(entrafake.Grant{ID: "g2", ClientID: "sp-wiki", ConsentType: "Principal", PrincipalID: "u-ada", Scope: "User.Read"})
	f.AddGrant(entrafake.Grant{ID: "g3", ClientID: "sp-wiki", ConsentType: "Principal", PrincipalID: "u-ada", Scope: "Files.Read"})
	f.AddGrant(entrafake.Grant{ID: "g4", ClientID: "sp-crm", ConsentType: "Principal", PrincipalID: "u-ada", Scope: "Mail.Read"})
	f.AddGrant(entrafake.Grant{ID: "g5", ClientID: "sp-crm", ConsentType: "Principal", PrincipalID: "u-bob", Scope: "User.Read"})
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@contoso.com", Client: "app-crm"})
	if err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("%+v, %v", res, err)
	}
	var left []string
	for _, g := range f.Grants() {
		left = append(left, g.ID)
	}
	if strings.Join(left, ",") != "g2,g3,g5" {
		t.Fatalf("grants left %v, want g2,g3,g5 (g4 is on the second page)", left)
	}
	if !strings.Contains(res.Detail, "2 delegated consent grant(s)") || !strings.Contains(res.Detail, "all applications") {
		t.Errorf("detail %q", res.Detail)
	}
}

func TestAnUnknownClientChangesNothing(t *testing.T) {
	f, p, _ := setup(t)
	_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@contoso.com", Client: "app-nope"})
	providertest.WantKind(t, err, errs.KindUsage, "app-nope")
	if f.Revocations("u-ada") != 0 {
		t.Fatal("sessions were revoked although --client named no application")
	}
}

func TestThrottlingIsWaitedOutByRetryAfterAndWritesAreNotRepeated(t *testing.T) {
	f, p, sleeps := setup(t)
	f.Faults.Inject(fakekit.Injection{Method: http.MethodGet, PathPrefix: "/v1.0/users/", Fault: fakekit.RateLimited})
	if res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "u-ada"}); err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := sleeps.All(); len(got) != 1 || got[0] != 3*time.Second {
		t.Fatalf("waits %v, want one of 3s", got)
	}
	f.Faults.Inject(fakekit.Injection{Method: http.MethodPost, PathPrefix: "/v1.0/users/", Fault: fakekit.Unavailable})
	_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "u-ada"})
	providertest.WantKind(t, err, errs.KindNetwork, "")
	if f.Revocations("u-ada") != 1 {
		t.Fatalf("the revocation POST was repeated after a 503: %d", f.Revocations("u-ada"))
	}
}

func TestAWrongSecretIsARefusalWithoutTheSecret(t *testing.T) {
	f := entrafake.New(t, tenant, "admin-app", secret)
	providertest.Watch(t, f.Close, f.Violations)
	env := providertest.Env(t, f.URL, &provider.AdminAuth{Scheme: provider.AuthClientCredentials, ClientID: "admin-app", Secret: "wrong-secret-value"}, httpx.Options{Sleep: providertest.NoSleep})
	env.Settings = map[string]string{"tenant": tenant, "authority": f.URL}
	p := providertest.Adapter[*entra.Provider](t, entra.New, env)
	_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@contoso.com"})
	providertest.WantKind(t, err, errs.KindRefused, "")
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Fatal("the error carries the secret")
	}
}

func TestThePlanNamesGraphEndpointsAndPermissions(t *testing.T) {
	_, p, _ := setup(t)
	calls, err := p.PlanRevokeUser(provider.RevokeUserRequest{User: "ada@contoso.com", Client: "app-crm"})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range calls {
		lines = append(lines, c.String())
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"POST /v1.0/users/{id}/revokeSignInSessions", entra.PermRevoke, "/v1.0/servicePrincipals(appId='app-crm')", "DELETE /v1.0/oauth2PermissionGrants/{grantId}", entra.PermGrants} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
}

func definition(t *testing.T, p entrafake.Policy) map[string]any {
	t.Helper()
	var d map[string]map[string]any
	if err := json.Unmarshal([]byte(p.Definition), &d); err != nil {
		t.Fatal(err)
	}
	return d["TokenLifetimePolicy"]
}

func set(t *testing.T, p *entra.Provider, app string, d time.Duration) (*provider.ExpiryPlan, *provider.Lifetimes) {
	t.Helper()
	plan, err := p.PlanExpiry(context.Background(), app, provider.LifetimeChange{AccessToken: &d})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.ApplyExpiry(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	return plan, got
}

func TestAnAppWithoutAPolicyGetsItsOwnAndReadsBack(t *testing.T) {
	f, p, _ := setup(t)
	before, err := p.GetExpiry(context.Background(), "app-crm")
	if err != nil || before.AccessToken.Known || before.AccessToken.Source != provider.SourceInherited {
		t.Fatalf("%+v, %v", before, err)
	}
	_, got := set(t, p, "app-crm", 2*time.Hour)
	if got.AccessToken.Value != 2*time.Hour || got.AccessToken.Native != "02:00:00" {
		t.Fatalf("read back %+v", got.AccessToken)
	}
	pols := f.Policies()
	if len(pols) != 1 || len(pols[0].AppliesTo) != 1 || pols[0].AppliesTo[0] != "obj-crm" {
		t.Fatalf("policies %+v", pols)
	}
}

func TestAnOwnPolicyIsUpdatedKeepingItsOtherSettings(t *testing.T) {
	f, p, _ := setup(t)
	f.AddPolicy(entrafake.Policy{ID: "own", Name: "CRM policy", AppliesTo: []string{"obj-crm"},
		Definition: `{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"01:00:00","SomeFutureSetting":"keep-me"}}`})
	set(t, p, "app-crm", 1*24*time.Hour)
	pols := f.Policies()
	d := definition(t, pols[0])
	if len(pols) != 1 || d["AccessTokenLifetime"] != "1.00:00:00" || d["SomeFutureSetting"] != "keep-me" {
		t.Fatalf("policy %+v, definition %v", pols, d)
	}
}

func TestASharedPolicyIsNeverChangedForOneApp(t *testing.T) {
	f, p, _ := setup(t)
	shared := `{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"04:00:00"}}`
	f.AddPolicy(entrafake.Policy{ID: "shared", Name: "Four hours", AppliesTo: []string{"obj-crm", "obj-wiki"}, Definition: shared})
	plan, got := set(t, p, "app-crm", 30*time.Minute)
	if len(plan.Warnings) == 0 || !strings.Contains(plan.Warnings[0], "Wiki") {
		t.Errorf("the plan does not say who shares the policy: %v", plan.Warnings)
	}
	if got.AccessToken.Value != 30*time.Minute {
		t.Fatalf("read back %+v", got.AccessToken)
	}
	for _, pol := range f.Policies() {
		switch pol.ID {
		case "shared":
			if pol.Definition != shared || strings.Join(pol.AppliesTo, ",") != "obj-wiki" {
				t.Errorf("the shared policy changed: %+v", pol)
			}
		default:
			if strings.Join(pol.AppliesTo, ",") != "obj-crm" {
				t.Errorf("new policy applies to %v", pol.AppliesTo)
			}
		}
	}
}

func TestRefreshLifetimesAndOutOfRangeValuesAreRefusedBeforeAnyCall(t *testing.T) {
	f, p, _ := setup(t)
	day := 24 * time.Hour
	_, err := p.PlanExpiry(context.Background(), "app-crm", provider.LifetimeChange{RefreshToken: &day})
	providertest.WantKind(t, err, errs.KindUnsupported, "sign-in frequency")
	for _, d := range []time.Duration{5 * time.Minute, 25 * time.Hour} {
		_, err := p.PlanExpiry(context.Background(), "app-crm", provider.LifetimeChange{AccessToken: &d})
		providertest.WantKind(t, err, errs.KindUsage, "10m")
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestKeysAreListedFromTheTenantsJWKSWithoutTheAdminToken(t *testing.T) {
	_, p, _ := setup(t)
	keys, err := p.ListKeys(context.Background())
	if err != nil || len(keys) != 2 || keys[0].KID != "tenant-key-1" {
		t.Fatalf("%+v, %v", keys, err)
	}
}

func TestACertificateCredentialIsNamedByItsThumbprint(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idpctl admin"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})

	for _, tc := range []struct {
		name     string
		material string
		want     errs.Kind
	}{
		{"key and certificate", string(keyPEM) + string(certPEM), errs.KindUnknown},
		{"key alone", string(keyPEM), errs.KindRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := entrafake.New(t, tenant, "admin-app", secret)
			f.Certificate = cert
			providertest.Watch(t, f.Close, f.Violations)
			f.AddUser(entrafake.User{ID: "u-ada", UPN: "ada@contoso.com"})
			env := providertest.Env(t, f.URL, &provider.AdminAuth{Scheme: provider.AuthClientCredentials, ClientID: "admin-app", Secret: tc.material, ClientAuthMethod: "private_key_jwt"}, httpx.Options{Sleep: providertest.NoSleep})
			env.Settings = map[string]string{"tenant": tenant, "authority": f.URL}
			p := providertest.Adapter[*entra.Provider](t, entra.New, env)
			_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada@contoso.com"})
			if tc.want == errs.KindUnknown {
				if err != nil || f.Revocations("u-ada") != 1 {
					t.Fatalf("%v, revocations %d", err, f.Revocations("u-ada"))
				}
				return
			}
			providertest.WantKind(t, err, tc.want, "")
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Fatal("the error quotes the key")
			}
		})
	}
}
