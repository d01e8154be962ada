package okta_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/okta"
	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

const (
	userID   = "00u1alice"
	login    = "alice@example.com"
	appID    = "0oa1app"
	clientID = "0oa1app" // Okta's default: the client id is the app id
)

type fixture struct {
	srv    *oktafake.Server
	p      *okta.Provider
	env    *provider.Env
	sleeps *providertest.Sleeps
}

// setup starts a fake org with one user, one OIDC app, and a "default"
// authorization server whose first policy applies to that app only.
func setup(t *testing.T, settings map[string]string) *fixture {
	t.Helper()
	srv := oktafake.New(t, oktafake.Options{})
	providertest.Watch(t, srv.Close, srv.Violations)
	srv.AddUser(oktafake.User{ID: userID, Login: login, Email: login})
	srv.AddSessions(userID, 2)
	srv.AddRefreshTokens(userID, clientID, 3)
	srv.AddApp(oktafake.OIDCApp(appID, clientID, "Payroll"))
	srv.AddApp(oktafake.OIDCApp("0oa2other", "0oa2other", "Other"))
	srv.AddAuthorizationServer("default")
	srv.AddPolicy("default", oktafake.Policy("00p1", "Payroll only", 1, clientID))
	srv.AddRule("default", "00p1", oktafake.Rule("0pr1", "Payroll rule", 1, 60, 0, 10080, "authorization_code"))
	srv.AddPolicy("default", oktafake.Policy("00p2", "Everyone else", 2, "ALL_CLIENTS"))
	srv.AddRule("default", "00p2", oktafake.Rule("0pr2", "Default rule", 1, 120, 0, 10080, "authorization_code"))
	f := &fixture{srv: srv, sleeps: &providertest.Sleeps{}}
	f.env = newEnv(t, srv, settings, f.sleeps)
	f.p = providertest.Adapter[*okta.Provider](t, okta.New, f.env)
	return f
}

func newEnv(t *testing.T, srv *oktafake.Server, settings map[string]string, s *providertest.Sleeps) *provider.Env {
	t.Helper()
	env := providertest.Env(t, srv.URL, &provider.AdminAuth{Scheme: provider.AuthSSWS, Secret: srv.Token()}, httpx.Options{MaxRetries: 2, Sleep: s.Sleep})
	env.Sleep = s.Sleep
	env.Settings = settings
	if env.Settings == nil {
		env.Settings = map[string]string{}
	}
	return env
}

// calls renders the requests that reached the fake as "METHOD path?query".
func calls(srv *oktafake.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, r.String())
	}
	return out
}

func count(srv *oktafake.Server, method, pathPrefix string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

func TestNewFindsTheOrgAndAuthorizationServer(t *testing.T) {
	tests := []struct {
		name     string
		env      provider.Env
		wantJWKS string
		wantAS   string
	}{
		{"issuer of a custom server gives org and server", provider.Env{Issuer: "https://acme.okta.com/oauth2/aus9x"}, "https://acme.okta.com/oauth2/aus9x/v1/keys", "aus9x"},
		{"org issuer falls back to the default server", provider.Env{Issuer: "https://acme.okta.com"}, "https://acme.okta.com/oauth2/default/v1/keys", "default"},
		{"the setting overrides the issuer", provider.Env{Issuer: "https://acme.okta.com/oauth2/aus9x", Settings: map[string]string{"authorization_server": "ausOther"}}, "https://acme.okta.com/oauth2/ausOther/v1/keys", "ausOther"},
		{"the admin url names the org", provider.Env{BaseURL: "https://acme-admin.okta.com/", Issuer: "https://login.acme.com/oauth2/default"}, "https://acme-admin.okta.com/oauth2/default/v1/keys", "default"},
		{"org names the org server", provider.Env{BaseURL: "https://acme.okta.com", Settings: map[string]string{"authorization_server": "org"}}, "https://acme.okta.com/oauth2/v1/keys", "org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			env.HTTP, _ = httpx.New(httpx.Options{})
			p, err := okta.New(&env)
			if err != nil {
				t.Fatal(err)
			}
			o := p.(*okta.Provider)
			if o.JWKSURL() != tt.wantJWKS || o.AuthorizationServer() != tt.wantAS || o.Name() != "okta" {
				t.Fatalf("JWKS %s, server %s", o.JWKSURL(), o.AuthorizationServer())
			}
		})
	}
}

func TestNewRefusesWhatCannotWork(t *testing.T) {
	hc, _ := httpx.New(httpx.Options{})
	tests := []struct {
		name string
		env  provider.Env
	}{
		{"no url at all", provider.Env{HTTP: hc}},
		{"not a url", provider.Env{HTTP: hc, BaseURL: "acme.okta.com"}},
		{"basic auth", provider.Env{HTTP: hc, BaseURL: "https://acme.okta.com", Auth: &provider.AdminAuth{Scheme: provider.AuthBasic}}},
		{"a path as server id", provider.Env{HTTP: hc, BaseURL: "https://acme.okta.com", Settings: map[string]string{"authorization_server": "a/b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := okta.New(&tt.env)
			providertest.WantKind(t, err, errs.KindUsage, "")
		})
	}
}

func TestNewFillsClientCredentialsDefaults(t *testing.T) {
	hc, _ := httpx.New(httpx.Options{})
	auth := &provider.AdminAuth{Scheme: provider.AuthClientCredentials}
	if _, err := okta.New(&provider.Env{HTTP: hc, BaseURL: "https://acme.okta.com", Auth: auth}); err != nil {
		t.Fatal(err)
	}
	if auth.TokenURL != "https://acme.okta.com/oauth2/v1/token" || !strings.Contains(auth.Scope, "okta.users.manage") {
		t.Fatalf("token url %q scope %q", auth.TokenURL, auth.Scope)
	}
}

func TestBearerAuthIsSentWithItsScheme(t *testing.T) {
	srv := oktafake.New(t, oktafake.Options{Scheme: "Bearer", Token: "okta-oauth-token"})
	defer srv.Close()
	srv.AddUser(oktafake.User{ID: userID, Login: login})
	hc, _ := httpx.New(httpx.Options{})
	p, err := okta.New(&provider.Env{BaseURL: srv.URL, HTTP: hc, Auth: &provider.AdminAuth{Scheme: provider.AuthBearer, Secret: "okta-oauth-token"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.(*okta.Provider).RevokeUser(context.Background(), provider.RevokeUserRequest{User: userID})
	if err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("res %+v err %v", res, err)
	}
	for _, r := range srv.Requests() {
		if r.Authorization != "Bearer okta-oauth-token" {
			t.Fatalf("Authorization %q", r.Authorization)
		}
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Fatal(v)
	}
}

// A next link naming another host (an org reached through its custom
// domain answers with its okta.com host) is followed on the configured org,
// path and query only, as Okta's SDKs do: the admin credential never goes
// to the link's host.
func TestANextLinkToAnotherHostIsFollowedOnTheConfiguredOrg(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the admin credential reached another host: %s", r.URL)
	}))
	defer other.Close()
	var seen []string
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.RequestURI())
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("after") == "" {
			w.Header().Set("Link", "<"+other.URL+"/api/v1/apps?after=x&limit=200>; rel=\"next\"")
			w.Write([]byte(`[{"id":"0oa1","label":"A","name":"oidc_client","signOnMode":"OPENID_CONNECT","credentials":{"oauthClient":{"client_id":"0oa1"}}}]`))
			return
		}
		w.Write([]byte(`[{"id":"0oa2","label":"B","name":"oidc_client","signOnMode":"OPENID_CONNECT","credentials":{"oauthClient":{"client_id":"0oa2"}}}]`))
	}))
	defer org.Close()
	hc, _ := httpx.New(httpx.Options{})
	p, err := okta.New(&provider.Env{BaseURL: org.URL, HTTP: hc, Auth: &provider.AdminAuth{Scheme: provider.AuthSSWS, Secret: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := p.(*okta.Provider).ListApps(context.Background())
	if err != nil || len(apps) != 2 {
		t.Fatalf("apps %v err %v", apps, err)
	}
	if len(seen) != 2 || seen[1] != "/api/v1/apps?after=x&limit=200" {
		t.Fatalf("requests %q", seen)
	}
}

func TestPagesAreFollowedWhenTheOrgsLinksNameItsOktaHost(t *testing.T) {
	srv := oktafake.New(t, oktafake.Options{LinkBase: "https://acme.okta.com"})
	providertest.Watch(t, srv.Close, srv.Violations)
	srv.AddUser(oktafake.User{ID: userID, Login: login, Email: login})
	srv.AddApp(oktafake.OIDCApp(appID, clientID, "Payroll"))
	srv.AddRefreshTokens(userID, clientID, 250)
	env := newEnv(t, srv, nil, &providertest.Sleeps{})
	p := providertest.Adapter[*okta.Provider](t, okta.New, env)
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: userID, Client: clientID})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Detail, "250 refresh token(s)") || srv.RefreshTokens(userID, clientID) != 0 {
		t.Fatalf("detail %q, %d left", res.Detail, srv.RefreshTokens(userID, clientID))
	}
}

// Okta's X-Rate-Limit-Reset is a time on Okta's clock: the wait is Reset
// minus the answer's Date, whatever the local clock says.
func TestARateLimitWaitFollowsOktasClockNotOurs(t *testing.T) {
	for _, skew := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			srv := oktafake.New(t, oktafake.Options{Now: func() time.Time { return time.Now().Add(skew) }})
			providertest.Watch(t, srv.Close, srv.Violations)
			srv.AddUser(oktafake.User{ID: userID, Login: login, Email: login})
			srv.Inject(oktafake.Injection{Method: "GET", PathPrefix: "/api/v1/users/", Fault: oktafake.Fault429, ResetIn: 3 * time.Second})
			sleeps := &providertest.Sleeps{}
			p := providertest.Adapter[*okta.Provider](t, okta.New, newEnv(t, srv, nil, sleeps))
			res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: userID})
			if err != nil || res.Outcome != provider.OutcomeRevoked {
				t.Fatalf("res %+v err %v", res, err)
			}
			if waits := sleeps.All(); len(waits) != 1 || waits[0] != 3*time.Second+250*time.Millisecond {
				t.Fatalf("waited %v, want [3.25s]: the reset minus Okta's Date", waits)
			}
		})
	}
}
