package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// OAuth writes a scope list as one space-separated string (RFC 6749 §3.3),
// and people copy it that way: the login must treat it as two scopes, send
// a nonce for openid, and accept the ID token a real IdP returns.
func TestLoginWithSpaceSeparatedScopesAsOneArgumentAtOIDCProvider(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none").
		Set("IDPCTL_SCOPES", "openid offline_access")

	authURL := login(t, e, p.FollowAuthorization, "--scope", "openid offline_access")
	checkAuthorizationRequest(t, authURL, oidcpeer.ClientCLIPublic, 0)
	if got := authURL.Query().Get("scope"); got != "openid offline_access" {
		t.Errorf("the authorization request asks for scope %q, want \"openid offline_access\"", got)
	}
	r := mustRun(t, e, "", "token", "inspect", "--id-token")
	if !verifiedYes.MatchString(r.Stdout) {
		t.Errorf("the ID token of the login is not reported verified:\n%s", r.Stdout)
	}
	// The token the login cached serves a token get naming the same scopes
	// in another spelling.
	before := totalTokenRequests(p.Stats(t))
	getToken(t, e, "--scope", "openid,offline_access")
	if n := totalTokenRequests(p.Stats(t)) - before; n != 0 {
		t.Errorf("token get made %d token requests, want the token the login cached", n)
	}
	if !strings.Contains(r.Stdout, oidcpeer.AccountID) {
		t.Errorf("the ID token is not the account's:\n%s", r.Stdout)
	}
}

// An RFC 6749 §5.2 error object is an error whatever the status it came
// with; some gateways and IdPs send it with 200 OK.
func TestAnErrorObjectAnsweredWith200IsReportedAsTheIdPsError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		code        string
		exit        int
		description string
	}{
		{"invalid_client", 4, "client authentication failed"},
		{"invalid_grant", 3, "grant request is invalid"},
		{"unauthorized_client", 4, "this client may not use client_credentials"},
	} {
		t.Run(c.code, func(t *testing.T) {
			t.Parallel()
			srv := hostileIdP(t, "", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"error":"` + c.code + `","error_description":"` + c.description + `"}`))
			})
			r := wantExit(t, hostileEnv(t, srv), c.exit, "", "token", "get")
			if !strings.Contains(r.Stderr, c.code) || !strings.Contains(r.Stderr, c.description) {
				t.Errorf("the message should carry the IdP's code and description:\n%s", r.Stderr)
			}
			if strings.Contains(r.Stderr, "no access_token") {
				t.Errorf("an error object is reported as a token without access_token:\n%s", r.Stderr)
			}
		})
	}
}

// A bearer token goes into headers, shell exports and kubeconfig; one with a
// CR/LF injected a header downstream. RFC 6750 §2.1 allows only b64token.
func TestAMalformedAccessTokenIsRefusedBeforeItReachesAHeader(t *testing.T) {
	t.Parallel()
	for name, tok := range map[string]string{
		"a CR/LF":  "abc\r\nX-Injected: yes",
		"a space":  "abc def",
		"a quote":  "abc'; rm -rf ~; '",
		"a NUL":    "abc\u0000def",
		"a padded": "=abc",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := hostileIdP(t, "", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
			})
			e := hostileEnv(t, srv)
			r := wantExit(t, e, 5, "", "token", "get", "-o", "header")
			if !strings.Contains(r.Stderr, "malformed access token") || strings.Contains(r.Stderr, "abc") {
				t.Errorf("the message should say the token is malformed without quoting it:\n%s", r.Stderr)
			}
		})
	}
}

// A missing setting is a configuration error (exit 2) that names what is
// missing, whichever store is chosen and whether or not the IdP is asked.
func TestAMissingSettingIsAUsageErrorNamingIt(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	noSecret := func(t *testing.T) *Env {
		return peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory").Unset("IDPCTL_CLIENT_SECRET_FILE")
	}
	// No D-Bus session is passed on, so the keychain cannot answer: the
	// missing setting must be reported before the store is touched.
	noKeychain := func(e *Env) *Env {
		return e.Set("IDPCTL_STORE", "keychain").Set("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	}
	cases := []struct {
		name string
		say  []string
		args []string
		env  func(t *testing.T) *Env
	}{
		{
			name: "a client_secret method without a secret", say: []string{"client_secret_basic needs the client secret", "IDPCTL_CLIENT_SECRET_FILE"},
			args: []string{"token", "get", "--flow", "client-credentials"},
			env: func(t *testing.T) *Env {
				return noSecret(t).Set("IDPCTL_CLIENT_AUTH_METHOD", "client_secret_basic")
			},
		},
		{
			name: "an empty IDPCTL_CLIENT_SECRET", say: []string{"client_secret_post needs the client secret"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				return noSecret(t).Set("IDPCTL_CLIENT_AUTH_METHOD", "client_secret_post").Set("IDPCTL_CLIENT_SECRET", "")
			},
		},
		{
			name: "client credentials without any credential", say: []string{"client-credentials flow needs a client credential"},
			args: []string{"token", "get", "--flow", "client-credentials"},
			env:  noSecret,
		},
		{
			name: "a profile in the file whose secret was never stored", say: []string{"client-credentials flow needs a client credential"},
			args: []string{"token", "get", "--flow", "client-credentials"},
			env: func(t *testing.T) *Env {
				e := noSecret(t).Set("IDPCTL_STORE", "file")
				mustRun(t, e.Clone().Unset("IDPCTL_PROFILE").Unset("IDPCTL_ISSUER").Unset("IDPCTL_CLIENT_ID"), "",
					"profile", "add", e.Get("IDPCTL_PROFILE"), "--issuer", p.Issuer, "--client-id", oidcpeer.ClientCCBasic)
				return e.Unset("IDPCTL_ISSUER").Unset("IDPCTL_CLIENT_ID")
			},
		},
		{
			name: "no client id, with a keychain that cannot answer", say: []string{"no client id", "IDPCTL_CLIENT_ID"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				return noKeychain(noSecret(t).Unset("IDPCTL_CLIENT_ID"))
			},
		},
		{
			name: "no issuer, with a keychain that cannot answer", say: []string{"no issuer", "IDPCTL_ISSUER"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				// The default profile: a named one would not exist.
				return noKeychain(noSecret(t).Unset("IDPCTL_ISSUER").Unset("IDPCTL_PROFILE"))
			},
		},
		{
			name: "no secret, with a keychain that cannot answer", say: []string{"client-credentials flow needs a client credential"},
			args: []string{"token", "get", "--flow", "client-credentials"},
			env: func(t *testing.T) *Env {
				return noKeychain(noSecret(t))
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := c.env(t)
			r := wantExit(t, e, 2, "", c.args...)
			for _, s := range c.say {
				if !strings.Contains(r.Stderr, s) {
					t.Errorf("the message should contain %q:\n%s", s, r.Stderr)
				}
			}
			if lines := messageLines(r.Stderr); len(lines) != 1 {
				t.Errorf("want a one-line message, got:\n%s", r.Stderr)
			}
		})
	}
}

// --min-ttl promises a token that lives at least that long; when the IdP
// issues shorter ones the promise cannot be kept and the command says so.
func TestMinTTLLongerThanTheIdPIssuesFails(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 5 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic)

	r := wantExit(t, e, 1, "", "token", "get", "--min-ttl", "10m")
	if lines := messageLines(r.Stderr); len(lines) != 1 || !strings.Contains(r.Stderr, "less than the --min-ttl of 10m0s") {
		t.Errorf("want one line saying the new token lives less than --min-ttl:\n%s", r.Stderr)
	}
	// The token the IdP issued is kept for calls that ask for less.
	before := totalTokenRequests(p.Stats(t))
	getToken(t, e, "--min-ttl", "4m")
	getToken(t, e)
	if n := totalTokenRequests(p.Stats(t)) - before; n != 0 {
		t.Errorf("%d token requests after the refused one, want the cached token", n)
	}
	// Left at its default, --min-ttl never fails: a fresh token is returned.
	getToken(t, e, "--no-cache")
}

// A login whose tokens cannot be saved must fail before the person logs
// in, not after.
func TestLoginChecksTheStoreCanSaveBeforeOpeningTheBrowser(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none").Set("IDPCTL_STORE", "file")
	// The credentials file is a directory: the store opens and locks, but
	// no write can succeed.
	if err := os.MkdirAll(filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "credentials.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	proc := start(t, e, "", "login", "--no-browser", "--scope", loginScopes)
	r := proc.waitResult(30 * time.Second)
	if r.Code != 6 {
		t.Fatalf("want exit 6\n%s", r)
	}
	if authURLLine.MatchString(r.Stderr) || strings.Contains(r.Stderr, "Open this URL") {
		t.Errorf("the login showed the authorization URL although nothing could be saved:\n%s", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "cannot save a login") {
		t.Errorf("the message should say the store cannot save the login:\n%s", r.Stderr)
	}
	if n := tokenCount(t, p, "authorization_code"); n != 0 {
		t.Errorf("the peer saw %d code redemptions", n)
	}
}

// --timeout bounds one request; --deadline bounds the retries of the whole
// command, and each wait is announced on stderr.
func TestDeadlineCapsRetriesAndEachWaitIsAnnounced(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t).Set("IDPCTL_STORE", "memory").Set("IDPCTL_ISSUER", srv.URL).Set("IDPCTL_CLIENT_ID", "ci").
		Set("IDPCTL_CLIENT_SECRET", "a-secret-that-is-never-sent")

	r := wantExit(t, e, 5, "", "token", "get", "--deadline", "2500ms")
	host := strings.TrimPrefix(srv.URL, "http://")
	if !strings.Contains(r.Stderr, "IdP "+host+" answered 503; retrying in 1s (2/5)") {
		t.Errorf("stderr does not announce the first retry:\n%s", r.Stderr)
	}
	// Attempts at about 0s, 1s and 2s fit in 2.5s; the two more the retry
	// budget allows do not.
	if n := hits.Load(); n < 2 || n > 3 {
		t.Errorf("%d requests within a 2.5s deadline of 1s waits, want 2 or 3", n)
	}
	if strings.Contains(r.Stderr, "(5/5)") {
		t.Errorf("a retry was announced past the deadline:\n%s", r.Stderr)
	}

	// Left at its default (four times the 30s timeout) all retries are made.
	hits.Store(0)
	r = wantExit(t, e, 5, "", "token", "get")
	if n := hits.Load(); n != 5 || !strings.Contains(r.Stderr, "(5/5)") {
		t.Errorf("%d requests with the default deadline, want 5 announced:\n%s", n, r.Stderr)
	}
}

// doctor tries the profile's client, so a wrong secret or a missing client
// id is not reported as healthy.
func TestDoctorTriesTheProfilesClient(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	type check struct{ Name, Status, Detail string }
	cases := []struct {
		name   string
		env    func(t *testing.T) *Env
		exit   int
		status string
		say    string
	}{
		{"a confidential client with its secret", func(t *testing.T) *Env {
			return peerEnv(t, p, oidcpeer.ClientCCBasic)
		}, 0, "ok", "got a token with client credentials"},
		{"a wrong secret", func(t *testing.T) *Env {
			e := peerEnv(t, p, oidcpeer.ClientCCBasic)
			return e.Set("IDPCTL_CLIENT_SECRET_FILE", e.WriteFile(t, "wrong-secret", "not-the-secret-of-cc-basic", true))
		}, 4, "fail", "invalid_client"},
		{"no client id", func(t *testing.T) *Env {
			return peerEnv(t, p, oidcpeer.ClientCCBasic).Unset("IDPCTL_CLIENT_ID")
		}, 2, "fail", "no client id"},
		{"a secret method without a secret", func(t *testing.T) *Env {
			return peerEnv(t, p, oidcpeer.ClientCCBasic).Unset("IDPCTL_CLIENT_SECRET_FILE").Set("IDPCTL_CLIENT_AUTH_METHOD", "client_secret_post")
		}, 2, "fail", "needs the client secret"},
		{"a confidential client for logins, with its secret", func(t *testing.T) *Env {
			return peerEnv(t, p, oidcpeer.ClientCLIConfidential)
		}, 0, "warn", "refused the client-credentials grant"},
		{"a confidential client for logins, with a wrong secret", func(t *testing.T) *Env {
			e := peerEnv(t, p, oidcpeer.ClientCLIConfidential)
			return e.Set("IDPCTL_CLIENT_SECRET_FILE", e.WriteFile(t, "wrong-secret", "not-the-secret-of-cli-confidential", true))
		}, 4, "fail", "invalid_client"},
		{"a public client for logins", func(t *testing.T) *Env {
			return peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none")
		}, 0, "ok", "login needs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := c.env(t).Set("IDPCTL_STORE", "memory")
			r := run(t, e, "", "doctor", "-o", "json")
			if r.Code != c.exit {
				t.Fatalf("want exit %d\n%s", c.exit, r)
			}
			var checks []check
			if err := json.Unmarshal([]byte(r.Stdout), &checks); err != nil {
				t.Fatalf("doctor -o json: %v\n%s", err, r)
			}
			found := false
			for _, ch := range checks {
				if ch.Name == "client" {
					found = true
					if ch.Status != c.status || !strings.Contains(ch.Detail, c.say) {
						t.Errorf("client check %s: %s, want %s saying %q", ch.Status, ch.Detail, c.status, c.say)
					}
				}
			}
			if !found {
				t.Errorf("doctor has no client check:\n%s", r.Stdout)
			}
			for _, s := range e.Secrets() {
				if strings.Contains(r.Stdout+r.Stderr, s) {
					t.Error("doctor printed a secret")
				}
			}
		})
	}
}
