package auth0_test

import (
	"context"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/auth0"
	"github.com/idpctl/idpctl/internal/provider/auth0/auth0fake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

const (
	alice         = "auth0|alice"
	email         = "alice@example.com"
	app1          = "app1ClientID"
	app2          = "app2ClientID"
	apiID         = "rs_api1"
	apiIdentifier = "https://api.example.com/"
)

type fixture struct {
	srv    *auth0fake.Server
	p      *auth0.Provider
	env    *provider.Env
	sleeps providertest.Sleeps
}

// setup starts a fake tenant with one user holding refresh tokens for two
// applications, those applications, and one API; the adapter authenticates
// with client credentials, its token URL and audience left to New.
func setup(t *testing.T, settings map[string]string) *fixture {
	t.Helper()
	srv := auth0fake.New(t, auth0fake.Options{})
	providertest.Watch(t, srv.Close, srv.Violations)
	srv.AddUser(auth0fake.User{ID: alice, Email: email})
	srv.AddSessions(alice, 2)
	srv.AddRefreshTokens(alice, app1, 2)
	srv.AddRefreshTokens(alice, app2, 1)
	srv.AddClient(auth0fake.Application(app1, "Payroll", auth0fake.RotatingRefreshTokens()))
	srv.AddClient(auth0fake.Application(app2, "Legacy", nil))
	srv.AddAPI(auth0fake.API(apiID, apiIdentifier, 86400))
	f := &fixture{srv: srv}
	f.env = providertest.Env(t, srv.URL,
		&provider.AdminAuth{Scheme: provider.AuthClientCredentials, ClientID: srv.ClientID(), Secret: srv.ClientSecret()},
		httpx.Options{MaxRetries: 2, Sleep: f.sleeps.Sleep})
	f.env.Sleep = f.sleeps.Sleep
	f.env.Settings = settings
	if f.env.Settings == nil {
		f.env.Settings = map[string]string{}
	}
	f.p = providertest.Adapter[*auth0.Provider](t, auth0.New, f.env)
	// Three tries: the retry budget is the base's, no longer httpx's.
	f.p.MaxAttempts = 3
	return f
}

func calls(srv *auth0fake.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Path != "/oauth/token" {
			out = append(out, r.String())
		}
	}
	return out
}

func count(srv *auth0fake.Server, method, pathPrefix string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

func TestNewFindsTheTenantAndFillsTheManagementAudience(t *testing.T) {
	tests := []struct {
		name                     string
		env                      provider.Env
		tenant, jwks, tok, audie string
	}{
		{"the tenant setting", provider.Env{Settings: map[string]string{"tenant": "acme.eu.auth0.com"}}, "acme.eu.auth0.com", "https://acme.eu.auth0.com/.well-known/jwks.json", "https://acme.eu.auth0.com/oauth/token", "https://acme.eu.auth0.com/api/v2/"},
		{"the issuer's host", provider.Env{Issuer: "https://acme.us.auth0.com/"}, "acme.us.auth0.com", "https://acme.us.auth0.com/.well-known/jwks.json", "https://acme.us.auth0.com/oauth/token", "https://acme.us.auth0.com/api/v2/"},
		{"a tenant beside a custom-domain issuer", provider.Env{Issuer: "https://login.acme.com/", Settings: map[string]string{"tenant": "acme.auth0.com"}}, "acme.auth0.com", "https://acme.auth0.com/.well-known/jwks.json", "https://acme.auth0.com/oauth/token", "https://acme.auth0.com/api/v2/"},
		{"the admin url wins for requests", provider.Env{BaseURL: "https://mgmt-proxy.example.com", Settings: map[string]string{"tenant": "acme.auth0.com"}}, "acme.auth0.com", "https://mgmt-proxy.example.com/.well-known/jwks.json", "https://mgmt-proxy.example.com/oauth/token", "https://acme.auth0.com/api/v2/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			env.HTTP, _ = httpx.New(httpx.Options{})
			env.Auth = &provider.AdminAuth{Scheme: provider.AuthClientCredentials}
			p, err := auth0.New(&env)
			if err != nil {
				t.Fatal(err)
			}
			a := p.(*auth0.Provider)
			if a.Tenant() != tt.tenant || a.JWKSURL() != tt.jwks || env.Auth.TokenURL != tt.tok || env.Auth.Audience != tt.audie || a.Name() != "auth0" {
				t.Fatalf("tenant %s jwks %s token %s audience %s", a.Tenant(), a.JWKSURL(), env.Auth.TokenURL, env.Auth.Audience)
			}
		})
	}
}

func TestNewRefusesWhatCannotWork(t *testing.T) {
	hc, _ := httpx.New(httpx.Options{})
	for name, env := range map[string]provider.Env{
		"nothing names the tenant": {HTTP: hc},
		"an SSWS token":            {HTTP: hc, Settings: map[string]string{"tenant": "acme.auth0.com"}, Auth: &provider.AdminAuth{Scheme: provider.AuthSSWS}},
		"a tenant with a path":     {HTTP: hc, Settings: map[string]string{"tenant": "acme.auth0.com/api"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := auth0.New(&env)
			providertest.WantKind(t, err, errs.KindUsage, "")
		})
	}
}

func TestTheManagementTokenIsFetchedOnceAndAgainWhenRefused(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := f.p.RevokeUser(ctx, provider.RevokeUserRequest{User: alice}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.srv.TokensIssued(); n != 1 {
		t.Fatalf("%d tokens fetched for two revocations", n)
	}
	f.srv.ExpireTokens()
	if _, err := f.p.RevokeUser(ctx, provider.RevokeUserRequest{User: alice}); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.TokensIssued(); n != 2 {
		t.Fatalf("%d tokens fetched, want a new one after the 401", n)
	}
	for _, r := range f.srv.Requests() {
		if r.Path != "/oauth/token" && !strings.HasPrefix(r.Authorization, "Bearer mgmt-token-") {
			t.Fatalf("Authorization %q on %s", r.Authorization, r.Path)
		}
	}
}

func TestAReadyBearerTokenIsUsedAsIs(t *testing.T) {
	srv := auth0fake.New(t, auth0fake.Options{BearerToken: "ready-mgmt-token"})
	defer srv.Close()
	srv.AddClient(auth0fake.Application(app1, "Payroll", nil))
	hc, _ := httpx.New(httpx.Options{})
	p, err := auth0.New(&provider.Env{BaseURL: srv.URL, HTTP: hc, Auth: &provider.AdminAuth{Scheme: provider.AuthBearer, Secret: "ready-mgmt-token"}})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := p.(*auth0.Provider).ListApps(context.Background())
	if err != nil || len(apps) != 1 {
		t.Fatalf("apps %v err %v", apps, err)
	}
	if srv.TokensIssued() != 0 || len(srv.Violations()) != 0 {
		t.Fatal("a token was fetched or the contract broken")
	}
}

// Auth0 creates machine-to-machine applications with
// token_endpoint_auth_method client_secret_post and refuses Basic for them;
// an admin client set up otherwise says so in the profile.
func TestTheAdminClientAuthenticatesAsAMachineToMachineAppDoesByDefault(t *testing.T) {
	f := setup(t, nil)
	if f.env.Auth.ClientAuthMethod != "client_secret_post" {
		t.Fatalf("default client auth %q", f.env.Auth.ClientAuthMethod)
	}
	if _, err := f.p.ListApps(context.Background()); err != nil {
		t.Fatal(err)
	}
	var tok *auth0fake.Request
	for _, r := range f.srv.Requests() {
		if r.Path == "/oauth/token" {
			tok = &r
			break
		}
	}
	if tok == nil || tok.Authorization != "" || !strings.Contains(string(tok.Body), "client_secret=") {
		t.Fatalf("token request %+v", tok)
	}

	srv := auth0fake.New(t, auth0fake.Options{TokenAuthMethod: "client_secret_basic"})
	providertest.Watch(t, srv.Close, srv.Violations)
	env := providertest.Env(t, srv.URL,
		&provider.AdminAuth{Scheme: provider.AuthClientCredentials, ClientID: srv.ClientID(), Secret: srv.ClientSecret(), ClientAuthMethod: "client_secret_basic"},
		httpx.Options{MaxRetries: 1, Sleep: providertest.NoSleep})
	env.Sleep = providertest.NoSleep
	p := providertest.Adapter[*auth0.Provider](t, auth0.New, env)
	p.MaxAttempts = 2
	if _, err := p.ListApps(context.Background()); err != nil {
		t.Fatalf("an explicit client_secret_basic was not kept: %v", err)
	}
}
