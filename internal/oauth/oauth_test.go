package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

func testHTTP(t *testing.T) *httpx.Client {
	t.Helper()
	c, err := httpx.New(httpx.Options{Timeout: 5 * time.Second, Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func serveMetadata(t *testing.T, mutate func(issuer string, md map[string]any)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		md := map[string]any{"issuer": srv.URL, "token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/jwks"}
		if mutate != nil {
			mutate(srv.URL, md)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(md)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestDiscoveryAcceptsTheConfiguredIssuerOnly(t *testing.T) {
	srv, _ := serveMetadata(t, nil)
	md, err := Discover(context.Background(), testHTTP(t), srv.URL)
	if err != nil || md.TokenEndpoint != srv.URL+"/token" {
		t.Fatalf("md %+v err %v", md, err)
	}
	bad, _ := serveMetadata(t, func(_ string, md map[string]any) { md["issuer"] = "https://evil.example" })
	_, err = Discover(context.Background(), testHTTP(t), bad.URL)
	if !errs.Is(err, errs.KindRefused) || !strings.Contains(err.Error(), "evil.example") {
		t.Fatalf("mismatch: %v", err)
	}
}

func TestDiscoveryRefusesPlainHTTPEndpointsOffLoopback(t *testing.T) {
	srv, _ := serveMetadata(t, func(_ string, md map[string]any) { md["token_endpoint"] = "http://idp.example/token" })
	_, err := Discover(context.Background(), testHTTP(t), srv.URL)
	if !errs.Is(err, errs.KindRefused) || !strings.Contains(err.Error(), "non-https token_endpoint") {
		t.Fatalf("err = %v", err)
	}
}

func TestDiscoveryFallsBackToRFC8414WithThePathAfterTheWellKnownSegment(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/oauth-authorization-server/tenant1" {
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, srv.URL+"/tenant1", srv.URL+"/tenant1/token")
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	md, err := Discover(context.Background(), testHTTP(t), srv.URL+"/tenant1")
	if err != nil || md.TokenEndpoint != srv.URL+"/tenant1/token" {
		t.Fatalf("md %+v err %v", md, err)
	}
}

func TestTheMetadataCacheServesFreshDocumentsOnly(t *testing.T) {
	srv, _ := serveMetadata(t, nil)
	md, err := Discover(context.Background(), testHTTP(t), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cache := &MetadataCache{Dir: t.TempDir(), TTL: time.Hour, Now: func() time.Time { return now }}
	if err := cache.Save(md); err != nil {
		t.Fatal(err)
	}
	if got := cache.Load(srv.URL); got == nil || got.TokenEndpoint != md.TokenEndpoint {
		t.Fatalf("fresh load = %+v", got)
	}
	if cache.Load("https://other.example") != nil {
		t.Fatal("another issuer must miss")
	}
	now = now.Add(2 * time.Hour)
	if cache.Load(srv.URL) != nil {
		t.Fatal("a stale document must miss")
	}
}

func TestTokenResponsesAreValidated(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name, body string
		wantErr    string
		wantExp    time.Duration
		wantType   string
	}{
		{"a number", `{"access_token":"a","token_type":"Bearer","expires_in":3600}`, "", time.Hour, "Bearer"},
		{"a string", `{"access_token":"a","token_type":"bearer","expires_in":"60"}`, "", time.Minute, "Bearer"},
		{"missing expiry", `{"access_token":"a","token_type":"Bearer"}`, "", 0, "Bearer"},
		{"a negative expiry", `{"access_token":"a","token_type":"Bearer","expires_in":-5}`, "negative", 0, ""},
		{"a huge expiry", `{"access_token":"a","token_type":"Bearer","expires_in":1e300}`, "", maxLifetime, "Bearer"},
		{"a word for expiry", `{"access_token":"a","token_type":"Bearer","expires_in":"soon"}`, "invalid expires_in", 0, ""},
		{"no access token", `{"token_type":"Bearer"}`, "no access_token", 0, ""},
		{"a MAC token", `{"access_token":"a","token_type":"mac"}`, `type "mac"`, 0, ""},
		{"a DPoP token", `{"access_token":"a","token_type":"DPoP"}`, "DPoP", 0, ""},
		{"N_A from token exchange", `{"access_token":"a","token_type":"N_A","issued_token_type":"urn:ietf:params:oauth:token-type:id_token"}`, "", 0, "N_A"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := parseToken(&httpx.Response{Status: 200, Body: []byte(tc.body), Header: http.Header{}, URL: "https://idp/token"}, now, "")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantExp == 0 && !tok.ExpiresAt.IsZero() || tc.wantExp != 0 && tok.ExpiresAt.Sub(now) != tc.wantExp {
				t.Fatalf("expires at %v", tok.ExpiresAt)
			}
			if tok.TokenType != tc.wantType {
				t.Fatalf("type %q", tok.TokenType)
			}
		})
	}
}

func TestErrorResponsesMapToExitKinds(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   errs.Kind
	}{
		{400, `{"error":"invalid_grant","error_description":"grant request is invalid"}`, errs.KindLoginRequired},
		{401, `{"error":"invalid_client"}`, errs.KindRefused},
		{400, `{"error":"invalid_scope"}`, errs.KindRefused},
		{403, `forbidden`, errs.KindRefused},
		{502, `<html><title>Bad Gateway</title></html>`, errs.KindNetwork},
		{503, ``, errs.KindNetwork},
		{429, `{"error":"slow_down","error_description":"too many requests"}`, errs.KindNetwork},
		{503, `{"error":"temporarily_unavailable"}`, errs.KindNetwork},
	}
	for _, tc := range cases {
		err := responseError("token", &httpx.Response{Status: tc.status, Body: []byte(tc.body), Header: http.Header{}, URL: "https://idp/token"})
		if got := errs.KindOf(err); got != tc.want {
			t.Errorf("%d %s: kind %v (%v), want %v", tc.status, tc.body, got, err, tc.want)
		}
	}
}

func TestIdPErrorTextIsSanitised(t *testing.T) {
	body := `{"error":"invalid_request","error_description":"bad\u001b[2J token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"}`
	err := responseError("token", &httpx.Response{Status: 400, Body: []byte(body), Header: http.Header{}, URL: "https://idp/token"})
	if strings.Contains(err.Error(), "\x1b") || strings.Contains(err.Error(), "eyJ") {
		t.Fatalf("unsanitised: %q", err.Error())
	}
}

func TestClientSecretBasicFormEncodesBeforeBase64(t *testing.T) {
	var gotAuth string
	var gotForm url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotForm, _ = url.ParseQuery(string(b))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"x","token_type":"Bearer","expires_in":60}`))
	}))
	defer srv.Close()
	c := &Client{HTTP: testHTTP(t), Metadata: &Metadata{TokenEndpoint: srv.URL}, ClientID: "my app", Auth: SecretBasic{Secret: "s:e%c"}}
	if _, err := c.ClientCredentials(context.Background(), TokenOptions{Scopes: []string{"a", "b"}, Resources: []string{"https://api"}}); err != nil {
		t.Fatal(err)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("my+app:s%3Ae%25c"))
	if gotAuth != want {
		t.Fatalf("Authorization = %q, want %q", gotAuth, want)
	}
	if gotForm.Get("scope") != "a b" || gotForm.Get("resource") != "https://api" || gotForm.Get("client_secret") != "" {
		t.Fatalf("form = %v", gotForm)
	}
}

func TestDevicePollingSlowsDownAndStopsAtExpiry(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch polls.Add(1) {
		case 1:
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"authorization_pending"}`))
		case 2:
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"slow_down"}`))
		default:
			w.Write([]byte(`{"access_token":"dev","token_type":"Bearer"}`))
		}
	}))
	defer srv.Close()
	now := time.Now()
	c := &Client{HTTP: testHTTP(t), Metadata: &Metadata{TokenEndpoint: srv.URL}, ClientID: "cli", Auth: None{}, Now: func() time.Time { return now }}
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error { waits = append(waits, d); now = now.Add(d); return nil }
	tok, err := c.PollDevice(context.Background(), &DeviceAuth{DeviceCode: "dc", Interval: 5, ExpiresAt: now.Add(time.Minute)}, sleep)
	if err != nil || tok.AccessToken != "dev" {
		t.Fatalf("tok %v err %v", tok, err)
	}
	if fmt.Sprint(waits) != "[5s 5s 10s]" {
		t.Fatalf("waits = %v, want the interval raised by 5s after slow_down", waits)
	}
	polls.Store(0)
	waits = nil
	_, err = c.PollDevice(context.Background(), &DeviceAuth{DeviceCode: "dc", Interval: 5, ExpiresAt: now.Add(7 * time.Second)}, func(_ context.Context, d time.Duration) error {
		now = now.Add(d)
		polls.Store(0) // keep answering pending
		return nil
	})
	if !errs.Is(err, errs.KindLoginRequired) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("err = %v", err)
	}
}

func TestTheCallbackChecksStateAndIssuer(t *testing.T) {
	c := &Client{Metadata: &Metadata{Issuer: "https://idp.example", AuthorizationResponseIssParameterSupported: true}}
	cases := []struct {
		name, query string
		wantKind    errs.Kind
		wantCode    string
	}{
		{"a good response", "state=S&code=C&iss=https%3A%2F%2Fidp.example", 0, "C"},
		{"a missing iss when advertised", "state=S&code=C", errs.KindRefused, ""},
		{"another issuer", "state=S&code=C&iss=https%3A%2F%2Fevil.example", errs.KindRefused, ""},
		{"an error", "state=S&error=access_denied&iss=https%3A%2F%2Fidp.example", errs.KindRefused, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			results := make(chan callbackResult, 1)
			h := c.callbackHandler("/callback", "S", results, nil)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/callback?"+tc.query, nil))
			r := <-results
			if tc.wantCode != "" {
				if r.err != nil || r.code != tc.wantCode {
					t.Fatalf("result %+v", r)
				}
				return
			}
			if errs.KindOf(r.err) != tc.wantKind {
				t.Fatalf("err = %v", r.err)
			}
		})
	}
}

func TestACallbackWithTheWrongStateIsIgnoredWithAWarning(t *testing.T) {
	c := &Client{Metadata: &Metadata{Issuer: "https://idp.example"}}
	results := make(chan callbackResult, 1)
	var warned []string
	h := c.callbackHandler("/callback", "S", results, func(m string) { warned = append(warned, m) })
	for _, q := range []string{"state=X&code=C", "code=C", "state=X&error=access_denied", "state=S%00&code=C"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/callback?"+q, nil))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d", q, rec.Code)
		}
		select {
		case r := <-results:
			t.Fatalf("%s ended the login: %+v", q, r)
		default:
		}
	}
	if len(warned) != 4 || !strings.Contains(warned[0], "wrong state") {
		t.Fatalf("warnings: %q", warned)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/callback?state=S&code=C", nil))
	if r := <-results; r.err != nil || r.code != "C" {
		t.Fatalf("the real response after forged ones: %+v", r)
	}
}

func TestPKCEVerifierAndChallengeFollowRFC7636(t *testing.T) {
	v, ch := PKCE()
	if len(v) != 43 || len(ch) != 43 {
		t.Fatalf("lengths %d %d", len(v), len(ch))
	}
	v2, _ := PKCE()
	if v == v2 {
		t.Fatal("verifiers must be random")
	}
}

// A client registered to require PAR or a request object is refused a
// plain authorization request; the error says which flag fixes it.
func TestARefusalForAMissingPARorRequestObjectNamesTheFlag(t *testing.T) {
	for desc, flag := range map[string]string{
		"Pushed Authorization Request must be used": "--par",
		"Request Object must be used":               "--request-object",
		"redirect_uri did not match":                "",
	} {
		msg := (&Error{Code: "invalid_request", Description: desc, Endpoint: "the authorization endpoint"}).Error()
		if flag != "" && !strings.Contains(msg, "add "+flag) {
			t.Errorf("%q: %s", desc, msg)
		}
		if flag == "" && strings.Contains(msg, "add --") {
			t.Errorf("%q names a flag: %s", desc, msg)
		}
	}
}

func TestAnInterruptedDeviceWaitSaysSoInWords(t *testing.T) {
	c := &Client{Metadata: &Metadata{TokenEndpoint: "http://127.0.0.1:9/token"}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.PollDevice(ctx, &DeviceAuth{DeviceCode: "dc", Interval: 5, ExpiresAt: time.Now().Add(time.Minute)}, func(ctx context.Context, _ time.Duration) error { return ctx.Err() })
	if !errs.Is(err, errs.KindInterrupted) || !strings.Contains(err.Error(), "interrupted while waiting for the device login") || strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v", err)
	}
}
