package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/iostreams"
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
			ios, _, _, errOut := iostreams.Test()
			ios.SetTTY(false, false, true)
			f := New(ios, func(string) string { return "" }, "test")
			var opened []string
			f.Browser = func(u string) error { opened = append(opened, u); return nil }
			tok, err := f.RunGrant(context.Background(), deviceIdP(t, c.uri, "ABCD"), &config.Resolved{}, GrantOptions{Flow: FlowDevice})
			if err != nil || tok.AccessToken == "" {
				t.Fatalf("device login: %v\n%s", err, errOut)
			}
			if got := len(opened) == 1; got != c.open {
				t.Fatalf("opened %v, want open=%v\n%s", opened, c.open, errOut)
			}
			if !strings.Contains(errOut.String(), c.uri) {
				t.Fatalf("the URI should be printed for the user:\n%s", errOut)
			}
			if !c.open && !strings.Contains(errOut.String(), "Not opening it in a browser") {
				t.Fatalf("the user should be told why it was not opened:\n%s", errOut)
			}
		})
	}
}

func TestDeviceTextFromTheIdPIsShownEscaped(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	f := New(ios, func(string) string { return "" }, "test")
	f.Browser = func(string) error { return nil }
	_, err := f.RunGrant(context.Background(), deviceIdP(t, "https://idp.example/d\x1b]52;c;ZWNobyBoaQ==\x07", "AB\x1b[2J\nCD"), &config.Resolved{}, GrantOptions{Flow: FlowDevice})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(errOut.String(), "\x1b\x07") || strings.Contains(errOut.String(), "AB\x1b") {
		t.Fatalf("escape sequences reached the terminal: %q", errOut)
	}
	if !strings.Contains(errOut.String(), `AB\x1b[2J\x0aCD`) {
		t.Fatalf("the code should be shown escaped on its line: %q", errOut)
	}
}

func TestChildEnvDropsEverySecretLookingVariable(t *testing.T) {
	in := []string{
		"IDPCTL_CLIENT_SECRET=s", "IDPCTL_ADMIN_SECRET=s", "IDPCTL_KEYRING_PASSWORD=p", "IDPCTL_ACCESS_TOKEN=t",
		"GITHUB_TOKEN=t", "AWS_SECRET_ACCESS_KEY=k", "OPENAI_API_KEY=k", "idpctl_client_secret=s",
		"MY_PRIVATE_KEY=k", "IDPCTL_CLIENT_ASSERTION=a", "DB_PASSWD=p",
		"PATH=/usr/bin", "HOME=/home/u", "DISPLAY=:0", "XAUTHORITY=/x", "IDPCTL_PROFILE=p", "LANG=C.UTF-8", "EMPTY=",
	}
	got := ChildEnv(in)
	want := []string{"PATH=/usr/bin", "HOME=/home/u", "DISPLAY=:0", "XAUTHORITY=/x", "IDPCTL_PROFILE=p", "LANG=C.UTF-8", "EMPTY="}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
