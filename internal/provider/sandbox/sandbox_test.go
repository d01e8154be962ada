package sandbox_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/providertest"
	adapter "github.com/idpctl/idpctl/internal/provider/sandbox"
	"github.com/idpctl/idpctl/internal/sandbox"
)

// The adapter is tested against the real sandbox: what it changes must
// change what the sandbox's token endpoints do.

func start(t *testing.T, opts sandbox.Options) (*sandbox.Server, *adapter.Provider) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := sandbox.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = srv.Close() })
	return srv, build(t, srv, srv.AdminSecret())
}

func build(t *testing.T, srv *sandbox.Server, secret string) *adapter.Provider {
	t.Helper()
	env := providertest.Env(t, "", &provider.AdminAuth{Secret: secret}, httpx.Options{Sleep: providertest.NoSleep})
	env.Issuer = srv.Issuer()
	return providertest.Adapter[*adapter.Provider](t, adapter.New, env)
}

// oauth is a client of the sandbox's token endpoints.
type oauth struct {
	t   *testing.T
	srv *sandbox.Server
}

func (o oauth) post(path string, form url.Values) (int, map[string]any) {
	o.t.Helper()
	c, _ := o.srv.Client(sandbox.ServiceClientID)
	req, _ := http.NewRequest(http.MethodPost, o.srv.Issuer()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, c.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// login runs the authorization code flow with PKCE for user at
// demo-service and returns the access and refresh tokens.
func (o oauth) login(user string) (access, refresh string) {
	o.t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://127.0.0.1:1/callback"
	q := url.Values{"response_type": {"code"}, "client_id": {sandbox.ServiceClientID}, "redirect_uri": {redirect},
		"scope": {"openid offline_access api:read"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	var code string
	browser := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/callback" {
			code = req.URL.Query().Get("code")
			return http.ErrUseLastResponse
		}
		if req.URL.Path == "/login" {
			v := req.URL.Query()
			v.Set("user", user)
			req.URL.RawQuery = v.Encode()
		}
		return nil
	}}
	resp, err := browser.Get(o.srv.Issuer() + sandbox.PathAuthorize + "?" + q.Encode())
	if err != nil {
		o.t.Fatal(err)
	}
	resp.Body.Close()
	status, tok := o.post(sandbox.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
	if status != 200 {
		o.t.Fatalf("code exchange for %s: %d %v", user, status, tok)
	}
	return tok["access_token"].(string), tok["refresh_token"].(string)
}

func (o oauth) refresh(rt string) (int, map[string]any) {
	return o.post(sandbox.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func (o oauth) active(token string) bool {
	o.t.Helper()
	status, body := o.post(sandbox.PathIntrospect, url.Values{"token": {token}})
	if status != 200 {
		o.t.Fatalf("introspection: %d %v", status, body)
	}
	return body["active"] == true
}

func (o oauth) clientCredentials() string {
	o.t.Helper()
	status, tok := o.post(sandbox.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read"}})
	if status != 200 {
		o.t.Fatalf("client credentials: %d %v", status, tok)
	}
	return tok["access_token"].(string)
}

func (o oauth) jwks() *jose.JSONWebKeySet {
	o.t.Helper()
	resp, err := http.Get(o.srv.Issuer() + sandbox.PathJWKS)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		o.t.Fatal(err)
	}
	return &set
}

func header(t *testing.T, jwt string) (kid string, claims map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	var h map[string]any
	for i, v := range []any{&h, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, v) != nil {
			t.Fatalf("not a JWT: part %d", i)
		}
	}
	kid, _ = h["kid"].(string)
	return kid, claims
}

func TestRevokingAUserEndsTheirRefreshTokensAccessTokensAndSessions(t *testing.T) {
	srv, p := start(t, sandbox.Options{Users: 2})
	o := oauth{t, srv}
	access, refresh := o.login("user-0001")
	if !o.active(access) {
		t.Fatal("the new access token is not active")
	}
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "user-0001"})
	if err != nil {
		t.Fatal(err)
	}
	// The seeded grant and the login's, and the seeded session and the login's.
	if res.Outcome != provider.OutcomeRevoked || res.Detail != "2 refresh tokens, 2 access tokens and 2 sessions ended" || !strings.Contains(res.StillValid, "5m") {
		t.Fatalf("result %+v", res)
	}
	if status, body := o.refresh(refresh); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after revocation: %d %v", status, body)
	}
	if o.active(access) {
		t.Fatal("introspection still says active")
	}
	if g, _ := srv.Grants("user-0002"); g.RefreshTokens != 1 || g.Sessions != 1 {
		t.Fatalf("another user's grants were touched: %+v", g)
	}
	again, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "user-0001"})
	if err != nil || again.Outcome != provider.OutcomeNothingToRevoke {
		t.Fatalf("second revocation %+v %v", again, err)
	}
	missing, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "nobody"})
	if err != nil || missing.Outcome != provider.OutcomeUserNotFound {
		t.Fatalf("unknown user %+v %v", missing, err)
	}
}

func TestRevokingForOneClientLeavesTheOthersAndTheSessions(t *testing.T) {
	srv, p := start(t, sandbox.Options{Users: 1})
	o := oauth{t, srv}
	_, refresh := o.login("user-0001") // at demo-service; the seeded grant is at demo-cli
	calls, _ := p.PlanRevokeUser(provider.RevokeUserRequest{User: "user-0001", Client: sandbox.CLIClientID})
	if len(calls) != 1 || calls[0].String() != "DELETE /admin/users/user-0001/tokens?client_id=demo-cli  (end the user's refresh and access tokens at this client)" {
		t.Fatalf("plan %v", calls)
	}
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "user-0001", Client: sandbox.CLIClientID})
	if err != nil || res.Detail != "1 refresh token, 1 access token and 0 sessions ended" {
		t.Fatalf("%+v %v", res, err)
	}
	if status, body := o.refresh(refresh); status != 200 {
		t.Fatalf("the other client's refresh token died: %d %v", status, body)
	}
	if g, _ := srv.Grants("user-0001"); g.Sessions != 2 {
		t.Fatalf("sessions %+v", g)
	}
}

func TestSettingLifetimesChangesTheTokensIssuedNext(t *testing.T) {
	srv, p := start(t, sandbox.Options{})
	ctx := context.Background()
	before, err := p.GetExpiry(ctx, sandbox.ServiceClientID)
	if err != nil || before.AccessToken.Value != 5*time.Minute || before.RefreshToken.Value != 24*time.Hour || !*before.Rotation {
		t.Fatalf("%+v %v", before, err)
	}
	access, refresh := 90*time.Second, 2*time.Hour
	plan, err := p.PlanExpiry(ctx, sandbox.ServiceClientID, provider.LifetimeChange{AccessToken: &access, RefreshToken: &refresh})
	if err != nil {
		t.Fatal(err)
	}
	if _, claims := header(t, oauth{t, srv}.clientCredentials()); claims["exp"].(float64)-claims["iat"].(float64) != 300 {
		t.Fatal("planning changed the lifetimes")
	}
	after, err := p.ApplyExpiry(ctx, plan)
	if err != nil || after.AccessToken.Value != access || after.RefreshToken.Value != refresh {
		t.Fatalf("%+v %v", after, err)
	}
	if _, claims := header(t, oauth{t, srv}.clientCredentials()); claims["exp"].(float64)-claims["iat"].(float64) != 90 {
		t.Fatalf("a new token lives %v s", claims["exp"].(float64)-claims["iat"].(float64))
	}
	idle := time.Hour
	if _, err := p.PlanExpiry(ctx, sandbox.ServiceClientID, provider.LifetimeChange{RefreshIdle: &idle}); !errs.Is(err, errs.KindUnsupported) {
		t.Fatalf("idle timeout: %v", err)
	}
	tooLong := 48 * time.Hour
	if _, err := p.PlanExpiry(ctx, sandbox.ServiceClientID, provider.LifetimeChange{AccessToken: &tooLong}); !errs.Is(err, errs.KindUsage) {
		t.Fatalf("out of range: %v", err)
	}
	if _, err := p.GetExpiry(ctx, "nope"); !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), `no client "nope"`) {
		t.Fatalf("unknown client: %v", err)
	}
	if apps, err := p.ListApps(ctx); err != nil || len(apps) != 2 {
		t.Fatalf("apps %v %v", apps, err)
	}
}

func TestRotatingTheSigningKeySignsWithTheNewKeyAndRetiringWithdrawsTheOld(t *testing.T) {
	srv, p := start(t, sandbox.Options{})
	o := oauth{t, srv}
	ctx := context.Background()
	oldToken := o.clientCredentials()
	oldKID, _ := header(t, oldToken)
	plan, err := p.PlanRotate(ctx, provider.KeySigning, provider.RotateOptions{RetireOldAfter: time.Hour})
	if err != nil || len(plan.Calls) != 2 || plan.Calls[1].Path != "/admin/keys/"+oldKID {
		t.Fatalf("plan %+v %v", plan, err)
	}
	rotated, err := p.Rotate(ctx, plan)
	if err != nil || rotated.NewKID == "" || rotated.NewKID == oldKID || rotated.JWKSURL != srv.Issuer()+"/jwks" {
		t.Fatalf("%+v %v", rotated, err)
	}
	if len(o.jwks().Key(rotated.NewKID)) != 1 || len(o.jwks().Key(oldKID)) != 1 {
		t.Fatal("the JWKS does not hold both keys")
	}
	if kid, _ := header(t, o.clientCredentials()); kid != rotated.NewKID {
		t.Fatalf("a new token is signed by %s, want %s", kid, rotated.NewKID)
	}
	if !o.active(oldToken) {
		t.Fatal("a token of the previous key stopped verifying before retirement")
	}
	retired, err := p.RetireKeys(ctx, plan, rotated)
	if err != nil || !slices.Equal(retired.Retired, []string{oldKID}) {
		t.Fatalf("%+v %v", retired, err)
	}
	if len(o.jwks().Key(oldKID)) != 0 || o.active(oldToken) {
		t.Fatal("the retired key is still published or its token still verifies")
	}
	keys, _ := p.ListKeys(ctx)
	if len(keys) != 2 || keys[1].KID != rotated.NewKID || keys[1].Status != "active" {
		t.Fatalf("keys %+v", keys)
	}
}

func TestRotatingTheEncryptionKeyPublishesANewEncKey(t *testing.T) {
	srv, p := start(t, sandbox.Options{})
	ctx := context.Background()
	plan, err := p.PlanRotate(ctx, provider.KeyEncryption, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := p.Rotate(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	keys := oauth{t, srv}.jwks().Key(rotated.NewKID)
	if len(keys) != 1 || keys[0].Use != "enc" || keys[0].Algorithm != "ECDH-ES" {
		t.Fatalf("published %+v", keys)
	}
	var enc int
	for _, k := range (oauth{t, srv}).jwks().Keys {
		if k.Use == "enc" {
			enc++
		}
	}
	if enc != 2 {
		t.Fatalf("%d encryption keys published, want the new and the previous", enc)
	}
}

func TestAWrongAdminCredentialIsARefusal(t *testing.T) {
	srv, _ := start(t, sandbox.Options{})
	p := build(t, srv, "wrong")
	_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: sandbox.DemoSubject})
	if !errs.Is(err, errs.KindRefused) || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), srv.AdminSecret()) {
		t.Fatalf("%v", err)
	}
}

func TestTheBasePagesThroughTheSandboxsUsers(t *testing.T) {
	_, p := start(t, sandbox.Options{Users: 5})
	var got []string
	err := p.Pages(context.Background(), "listing users", "/users", url.Values{"limit": {"2"}}, func(resp *httpx.Response) error {
		var page []struct{ ID string }
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return err
		}
		for _, u := range page {
			got = append(got, u.ID)
		}
		return nil
	})
	want := []string{"demo-user", "user-0001", "user-0002", "user-0003", "user-0004", "user-0005"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("users %v %v", got, err)
	}
}

func TestTheRateLimitFieldsReachObserve(t *testing.T) {
	srv, _ := start(t, sandbox.Options{AdminRateLimit: 1})
	var seen []httpx.RateLimit
	env := providertest.Env(t, "", &provider.AdminAuth{Secret: srv.AdminSecret()}, httpx.Options{Sleep: providertest.NoSleep})
	env.Issuer = srv.Issuer()
	sleeps := &providertest.Sleeps{}
	env.Sleep = sleeps.Sleep
	env.Observe = func(_ context.Context, h http.Header) { seen = append(seen, httpx.ReadRateLimit(h)) }
	p := providertest.Adapter[*adapter.Provider](t, adapter.New, env)
	if _, err := p.GetExpiry(context.Background(), sandbox.ServiceClientID); err != nil {
		t.Fatal(err)
	}
	// The second call finds the budget spent: a 429 the base waits out
	// (on the injected sleep) and retries, up to its bound.
	_, err := p.GetExpiry(context.Background(), sandbox.ServiceClientID)
	if len(seen) < 2 || !seen[0].Known || seen[0].Limit != 1 || seen[0].Remaining != 0 || len(sleeps.All()) == 0 {
		t.Fatalf("observed %+v, waits %v, err %v", seen, sleeps.All(), err)
	}
	if err == nil || !errs.Is(err, errs.KindNetwork) || !strings.Contains(err.Error(), "429") {
		t.Fatalf("err %v", err)
	}
	// The bulk limiter reads the reset from the error, under its own names.
	var rle *provider.RateLimitedError
	if !errors.As(err, &rle) || httpx.ReadRateLimit(rle.RateLimitHeader()).Reset.IsZero() {
		t.Fatalf("the 429 error does not carry the reset: %v", err)
	}
}

// A value that reads back differently from what was written is the IdP's
// answer, not a network failure: exit 1, not 5 (which says "try again").
func TestAReadBackThatDiffersIsNotANetworkError(t *testing.T) {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/clients/demo-service":
			// The admin API clamps the access-token lifetime to 600s.
			_, _ = w.Write([]byte(`{"client_id":"demo-service","access_token_lifetime":600,"refresh_token_lifetime":86400,"refresh_token_rotation":true}`))
		case r.Method == http.MethodPut && r.URL.Path == "/clients/demo-service/lifetimes":
			_, _ = w.Write([]byte(`{}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer stub.Close()
	env := providertest.Env(t, stub.URL, &provider.AdminAuth{Scheme: provider.AuthBearer, Secret: "admin"}, httpx.Options{Sleep: providertest.NoSleep})
	p := providertest.Adapter[*adapter.Provider](t, adapter.New, env)
	d := 20 * time.Minute
	plan, err := p.PlanExpiry(context.Background(), "demo-service", provider.LifetimeChange{AccessToken: &d})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.ApplyExpiry(context.Background(), plan)
	providertest.WantKind(t, err, errs.KindUnknown, "read back 600s")
}
