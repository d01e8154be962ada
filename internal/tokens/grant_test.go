package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/oauth"
)

// deviceIdP answers a device authorization with the given verification
// URI and user code, then issues a token on the first poll.
func deviceIdP(t *testing.T, complete, userCode string) *oauth.Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /device", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"device_code": "device-code-0123456789", "user_code": userCode,
			"verification_uri": "https://idp.example/device", "verification_uri_complete": complete,
			"expires_in": 60, "interval": 1,
		})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at-0123456789","token_type":"Bearer","expires_in":60}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	hc, err := httpx.New(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &oauth.Client{HTTP: hc, ClientID: "cli", Auth: oauth.None{}, Metadata: &oauth.Metadata{
		Issuer: srv.URL, TokenEndpoint: srv.URL + "/token", DeviceAuthorizationEndpoint: srv.URL + "/device",
	}}
}

// fakePrompt records what a grant says and claims a person is watching
// when attended is set.
type fakePrompt struct {
	attended bool
	said     strings.Builder
}

func (p *fakePrompt) Say(msg string) { p.said.WriteString(msg + "\n") }
func (p *fakePrompt) Attended() bool { return p.attended }

// fakeOpener records the URLs it was asked to open.
type fakeOpener struct {
	opened []string
	err    error
}

func (o *fakeOpener) Open(u string) error {
	o.opened = append(o.opened, u)
	return o.err
}

// fakeClock stands still and records the sleeps asked of it, so a device
// poll costs no time.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	return nil
}

type noSecrets struct{ t *testing.T }

func (s noSecrets) ReadSecretFile(path, what string) (string, error) {
	s.t.Fatalf("no %s should be read (asked for %s)", what, path)
	return "", nil
}

func newGrants(t *testing.T, attended bool) (*Grants, *fakePrompt, *fakeOpener, *fakeClock) {
	t.Helper()
	pr := &fakePrompt{attended: attended}
	op := &fakeOpener{}
	cl := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	return &Grants{
		Profile: &config.Resolved{Name: "p", Profile: config.Profile{ClientID: "cli"}}, Store: credstore.NewMemory(),
		Opener: op, Prompt: pr, Secrets: noSecrets{t}, Clock: cl,
		Client: func(context.Context) (*oauth.Client, error) {
			t.Fatal("the client must not be built")
			return nil, nil
		},
	}, pr, op, cl
}

func TestADeviceVerificationURIIsOpenedOnlyWhenHTTPSOrLoopback(t *testing.T) {
	for _, c := range []struct {
		uri  string
		open bool
	}{
		{"https://idp.example/device?user_code=ABCD", true},
		{"http://127.0.0.1:8080/device?user_code=ABCD", true},
		{"http://[::1]:8080/device", true},
		{"http://idp.example/device?user_code=ABCD", false},
		{"file:///etc/passwd", false},
		{"javascript:alert(1)", false},
		{"smb://attacker.example/share", false},
		{"--help", false},
	} {
		t.Run(c.uri, func(t *testing.T) {
			r, pr, op, cl := newGrants(t, true)
			tok, err := r.RunGrant(context.Background(), deviceIdP(t, c.uri, "ABCD"), GrantOptions{Flow: FlowDevice})
			if err != nil || tok.AccessToken == "" {
				t.Fatalf("device login: %v\n%s", err, pr.said.String())
			}
			if got := len(op.opened) == 1; got != c.open {
				t.Fatalf("opened %v, want open=%v\n%s", op.opened, c.open, pr.said.String())
			}
			if !strings.Contains(pr.said.String(), c.uri) {
				t.Fatalf("the URI should be shown to the user:\n%s", pr.said.String())
			}
			if !c.open && !strings.Contains(pr.said.String(), "Not opening it in a browser") {
				t.Fatalf("the user should be told why it was not opened:\n%s", pr.said.String())
			}
			if len(cl.sleeps) == 0 {
				t.Fatal("the device poll should wait on the grant's clock")
			}
		})
	}
}

func TestADeviceLoginNobodyWatchesOpensNoBrowserButShowsTheCode(t *testing.T) {
	r, pr, op, _ := newGrants(t, false)
	if _, err := r.RunGrant(context.Background(), deviceIdP(t, "https://idp.example/device?user_code=WXYZ", "WXYZ"), GrantOptions{Flow: FlowDevice}); err != nil {
		t.Fatal(err)
	}
	if len(op.opened) != 0 {
		t.Fatalf("opened %v without a terminal", op.opened)
	}
	if !strings.Contains(pr.said.String(), "WXYZ") || !strings.Contains(pr.said.String(), "Waiting for approval") {
		t.Fatalf("said:\n%s", pr.said.String())
	}
}

func TestNoBrowserKeepsTheDeviceURIToTheText(t *testing.T) {
	r, _, op, _ := newGrants(t, true)
	if _, err := r.RunGrant(context.Background(), deviceIdP(t, "https://idp.example/device?user_code=WXYZ", "WXYZ"), GrantOptions{Flow: FlowDevice, NoBrowser: true}); err != nil {
		t.Fatal(err)
	}
	if len(op.opened) != 0 {
		t.Fatalf("opened %v despite --no-browser", op.opened)
	}
}

func TestDeviceTextFromTheIdPIsShownEscaped(t *testing.T) {
	r, pr, _, _ := newGrants(t, false)
	_, err := r.RunGrant(context.Background(), deviceIdP(t, "https://idp.example/d\x1b]52;c;ZWNobyBoaQ==\x07", "AB\x1b[2J\nCD"), GrantOptions{Flow: FlowDevice})
	if err != nil {
		t.Fatal(err)
	}
	said := pr.said.String()
	if strings.ContainsAny(said, "\x1b\x07") || strings.Contains(said, "AB\x1b") {
		t.Fatalf("escape sequences reached the terminal: %q", said)
	}
	if !strings.Contains(said, `AB\x1b[2J\x0aCD`) {
		t.Fatalf("the code should be shown escaped on its line: %q", said)
	}
}

func TestBindGivesEachFlowItsGrantOrAHint(t *testing.T) {
	for _, c := range []struct {
		name      string
		flow      string
		attended  bool
		allow     bool
		wantGrant bool
		wantHint  string
	}{
		{"refresh runs no grant", FlowRefresh, true, false, false, "run 'idpctl login --profile p'"},
		{"client credentials run unattended", FlowClientCredentials, false, false, true, "run 'idpctl login --profile p'"},
		{"a browser login at a terminal", FlowAuthCode, true, false, true, "run 'idpctl login --profile p'"},
		{"a browser login nobody can follow", FlowAuthCode, false, false, false, "the auth-code flow needs a person"},
		{"a device login nobody can follow", FlowDevice, false, false, false, "the device flow needs a person"},
		{"an explicit login without a terminal", FlowDevice, false, true, true, "run 'idpctl login --profile p'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _, _, _ := newGrants(t, c.attended)
			svc := &Service{LoginHint: LoginHint("p")}
			r.Bind(svc, GrantOptions{Flow: c.flow, AllowInteractiveOnNoTTY: c.allow})
			if (svc.Grant != nil) != c.wantGrant || !strings.Contains(svc.LoginHint, c.wantHint) {
				t.Fatalf("grant %v hint %q", svc.Grant != nil, svc.LoginHint)
			}
		})
	}
}

func TestABoundGrantBuildsTheClientOnlyWhenRun(t *testing.T) {
	r, _, _, _ := newGrants(t, false)
	built := 0
	r.Client = func(context.Context) (*oauth.Client, error) {
		built++
		return nil, errs.New(errs.KindNetwork, "discovery failed")
	}
	svc := &Service{}
	r.Bind(svc, GrantOptions{Flow: FlowClientCredentials})
	if built != 0 {
		t.Fatal("binding must not build the client")
	}
	if _, err := svc.Grant(context.Background()); !errs.Is(err, errs.KindNetwork) || built != 1 {
		t.Fatalf("err %v built %d", err, built)
	}
}

func TestClientCredentialsWithoutACredentialAreRefusedBeforeTheRequest(t *testing.T) {
	r, _, _, _ := newGrants(t, false)
	c := &oauth.Client{ClientID: "cli", Auth: oauth.None{}, Metadata: &oauth.Metadata{TokenEndpoint: "https://idp.example/token"}}
	_, err := r.RunGrant(context.Background(), c, GrantOptions{Flow: FlowClientCredentials})
	if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), "needs a client credential") {
		t.Fatalf("err %v", err)
	}
}

func TestASubjectTokenFromAnotherProfileIsItsCachedAccessToken(t *testing.T) {
	r, _, _, _ := newGrants(t, false)
	ctx := context.Background()
	if _, err := r.readToken(ctx, "", "web", "subject"); !errs.Is(err, errs.KindLoginRequired) {
		t.Fatalf("err %v, want a login for a profile with nothing cached", err)
	}
	if err := credstore.SaveJSON(ctx, r.Store, "web", credstore.KindAccessToken, credstore.AccessToken{AccessToken: "web-at"}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.readToken(ctx, "", "web", "subject"); err != nil || got != "web-at" {
		t.Fatalf("got %q err %v", got, err)
	}
	if _, err := r.readToken(ctx, "", "", "subject"); !errs.Is(err, errs.KindUsage) {
		t.Fatalf("err %v, want usage when no token is named", err)
	}
}

func TestAnUnknownFlowIsAUsageError(t *testing.T) {
	r, _, _, _ := newGrants(t, false)
	_, err := r.RunGrant(context.Background(), &oauth.Client{}, GrantOptions{Flow: "password"})
	if !errs.Is(err, errs.KindUsage) {
		t.Fatalf("err %v", err)
	}
}

// authCodeIdP answers an authorization request by redirecting to the
// loopback listener with a code, and redeems the code for tokens carrying
// an ID token (no JWKS is published, so only its claims can be checked).
// nonce replaces the login's nonce in the ID token when not empty.
func authCodeIdP(t *testing.T, now time.Time, nonce string) *oauth.Client {
	t.Helper()
	var sentNonce string
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "cli" {
			t.Errorf("authorization request without PKCE or client: %s", r.URL.RawQuery)
		}
		sentNonce = q.Get("nonce")
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=the-code&state="+q.Get("state"), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("code") != "the-code" || r.PostForm.Get("code_verifier") == "" {
			t.Errorf("token request: %v %v", err, r.PostForm)
		}
		n := sentNonce
		if nonce != "" {
			n = nonce
		}
		id := idToken("RS256", map[string]any{"iss": srv.URL, "aud": "cli", "sub": "u", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": n})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-0123456789", "token_type": "Bearer", "expires_in": 60, "id_token": id})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	hc, err := httpx.New(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &oauth.Client{HTTP: hc, ClientID: "cli", Auth: oauth.None{}, Now: func() time.Time { return now }, Metadata: &oauth.Metadata{
		Issuer: srv.URL, AuthorizationEndpoint: srv.URL + "/authorize", TokenEndpoint: srv.URL + "/token",
	}}
}

// browserOpener plays the browser: it follows the authorization URL, and
// the IdP's redirect, to the loopback listener. err is what it reports
// back, as an opener that started nothing would.
type browserOpener struct {
	t      *testing.T
	opened []string
	err    error
}

func (b *browserOpener) Open(u string) error {
	b.opened = append(b.opened, u)
	resp, err := http.Get(u)
	if err != nil {
		b.t.Errorf("following the authorization URL: %v", err)
		return err
	}
	resp.Body.Close()
	return b.err
}

func TestABrowserLoginOpensTheURLAndChecksTheIDToken(t *testing.T) {
	r, pr, _, cl := newGrants(t, true)
	br := &browserOpener{t: t}
	r.Opener = br
	tok, err := r.RunGrant(context.Background(), authCodeIdP(t, cl.now, ""), GrantOptions{Flow: FlowAuthCode, Options: oauth.TokenOptions{Scopes: []string{"openid"}}})
	if err != nil || tok.AccessToken != "at-0123456789" {
		t.Fatalf("tok %+v err %v\n%s", tok, err, pr.said.String())
	}
	if len(br.opened) != 1 || !strings.Contains(pr.said.String(), "Opened the browser to log in. If it did not open, visit:\n"+br.opened[0]+"\n") {
		t.Fatalf("opened %v, said:\n%s", br.opened, pr.said.String())
	}
	if !strings.Contains(pr.said.String(), "signature could not be verified") {
		t.Fatalf("no word that the ID token's signature went unchecked:\n%s", pr.said.String())
	}
}

func TestABrowserThatDidNotOpenLeavesTheURLToThePerson(t *testing.T) {
	r, pr, _, cl := newGrants(t, true)
	r.Opener = &browserOpener{t: t, err: errors.New("no browser")}
	if _, err := r.RunGrant(context.Background(), authCodeIdP(t, cl.now, ""), GrantOptions{Flow: FlowAuthCode}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pr.said.String(), "Open this URL in a browser to log in:\n") || strings.Contains(pr.said.String(), "Opened the browser") {
		t.Fatalf("said:\n%s", pr.said.String())
	}
}

func TestAnIDTokenForAnotherLoginIsRefused(t *testing.T) {
	r, _, _, cl := newGrants(t, true)
	r.Opener = &browserOpener{t: t}
	_, err := r.RunGrant(context.Background(), authCodeIdP(t, cl.now, "someone-elses-nonce"), GrantOptions{Flow: FlowAuthCode, Options: oauth.TokenOptions{Scopes: []string{"openid"}}})
	if !errs.Is(err, errs.KindRefused) || !strings.Contains(err.Error(), "nonce") {
		t.Fatalf("err %v, want the ID token refused for its nonce", err)
	}
}
