package e2e

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/hostile"
	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
)

// recordingProxy is a forward proxy on loopback that records every request
// it is asked to carry and forwards it, so that a client using it works.
type recordingProxy struct {
	URL string
	mu  sync.Mutex
	saw []string
}

func startRecordingProxy(t testing.TB) *recordingProxy {
	t.Helper()
	p := &recordingProxy{}
	out := http.DefaultTransport.(*http.Transport).Clone()
	out.Proxy = nil
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.saw = append(p.saw, r.Method+" "+r.URL.String()+" "+r.Header.Get("Authorization"))
		p.mu.Unlock()
		if !r.URL.IsAbs() {
			http.Error(w, "forward requests only", http.StatusBadRequest)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := out.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *recordingProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.saw...)
}

func TestHostileProxyNeverCarriesTrafficToALoopbackIdP(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"--proxy", "IDPCTL_PROXY", "HTTP_PROXY"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			s := hostile.Start(t, hostile.Config{})
			proxy := startRecordingProxy(t)
			e := hostileClient(t, s)
			args := []string{"token", "get"}
			switch how {
			case "--proxy":
				args = append(args, "--proxy", proxy.URL)
			case "IDPCTL_PROXY":
				e.Set("IDPCTL_PROXY", proxy.URL)
			default:
				e.Set("HTTP_PROXY", proxy.URL).Set("HTTPS_PROXY", proxy.URL)
			}
			r := mustRun(t, e, "", args...)
			e.Secret(s.Issued()...)
			if got := strings.TrimSpace(r.Stdout); !contains(s.Issued(), got) {
				t.Fatalf("token get printed %q, not a token the IdP issued", got)
			}
			if saw := proxy.requests(); len(saw) != 0 {
				t.Fatalf("the proxy carried %d requests to a loopback IdP, the first: %.60s", len(saw), saw[0])
			}
			if s.Hits(hostile.PathToken) != 1 {
				t.Fatalf("the IdP saw %d token requests, want 1", s.Hits(hostile.PathToken))
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// escapes is what a hostile value carries to attack a terminal: a window
// title, a clipboard write, a screen clear, a C1 control and a bidi
// override.
const escapes = "\x1b]0;owned\x07\x1b]52;c;ZWNobyBvd25lZA==\x07\x1b[2J\u009b1m\u202e"

func checkNoEscapes(t *testing.T, what, out string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s: %q reached the terminal:\n%q", what, bad, out)
		}
	}
	if !strings.Contains(out, `\x1b]0;owned`) {
		t.Errorf("%s: the hostile value should be shown, escaped:\n%s", what, out)
	}
}

func TestHostileTextIsShownEscapedOnTheTerminal(t *testing.T) {
	t.Parallel()
	t.Run("unverified claims of token inspect", func(t *testing.T) {
		t.Parallel()
		s := hostile.Start(t, hostile.Config{})
		e := hostileClient(t, s)
		tok := s.SignRS256(hostile.KeyID, s.Claims(map[string]any{"sub": "alice" + escapes, "name" + escapes: "Alice" + escapes}))
		e.Secret(tok)
		r := run(t, e, tok+"\n", "token", "inspect", "-")
		checkNoEscapes(t, "stdout", r.Stdout)
		if strings.ContainsAny(r.Stderr, "\x1b\x07") {
			t.Errorf("escape sequences on stderr: %q", r.Stderr)
		}
	})
	t.Run("discovery values shown by idp discover", func(t *testing.T) {
		t.Parallel()
		s := hostile.Start(t, hostile.Config{Discovery: func(w http.ResponseWriter, r *http.Request, c hostile.Call) {
			var doc map[string]any
			_ = json.Unmarshal(c.Document, &doc)
			doc["scopes_supported"] = []string{"openid", "admin" + escapes}
			doc["grant_types_supported"] = []string{"client_credentials" + escapes}
			b, _ := json.Marshal(doc)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
		}})
		e := hostileClient(t, s)
		r := mustRun(t, e, "", "idp", "discover")
		checkNoEscapes(t, "stdout", r.Stdout)
	})
	t.Run("a certificate's names in a TLS failure", func(t *testing.T) {
		t.Parallel()
		ca := hostile.NewCA(t)
		s := hostile.Start(t, hostile.Config{Certificate: ca.Issue(t, hostile.Leaf{DNSNames: []string{"idp\x1b]0;owned\x07\x1b[2J.example.test"}})})
		// By name: for an IP address Go's error names no certificate names.
		e := hostileClient(t, s).Set("IDPCTL_ISSUER", strings.Replace(s.URL, "127.0.0.1", "localhost", 1))
		r := run(t, e, "", "token", "get", "--ca-file", ca.WriteFile(t, t.TempDir()))
		if r.Code != 5 {
			t.Fatalf("want exit 5 for a certificate of another name\n%s", r)
		}
		checkNoEscapes(t, "stderr", r.Stderr)
	})
	t.Run("an IdP error in a failure message", func(t *testing.T) {
		t.Parallel()
		s := hostile.Start(t, hostile.Config{Issuer: "https://elsewhere.example/" + escapes})
		e := hostileClient(t, s)
		r := run(t, e, "", "token", "get")
		if r.Code == 0 {
			t.Fatalf("a mismatched issuer was accepted\n%s", r)
		}
		checkNoEscapes(t, "stderr", r.Stderr)
	})
}

func TestLoginIgnoresACallbackWithTheWrongStateAndWaitsForTheRealOne(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none").Set("IDPCTL_SCOPES", loginScopes)
	proc := start(t, e, "", "login", "--no-browser", "--scope", loginScopes)
	m := proc.waitStderr(authURLLine, 30*time.Second)
	authURL, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	// Any local process can reach the listener; this one guesses the state.
	forged := authURL.Query().Get("redirect_uri") + "?state=forged-state&code=forged-code"
	resp, err := http.Get(forged)
	if err != nil {
		t.Fatalf("the listener should still be there: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the forged response got status %d, want 400", resp.StatusCode)
	}
	proc.waitStderr(regexp.MustCompile(`ignored a response .* wrong state`), 10*time.Second)
	select {
	case <-proc.Done():
		t.Fatalf("the forged response ended the login\n%s", proc.result())
	default:
	}
	browser := browse(p.FollowAuthorization, m[1])
	r := proc.waitResult(runTimeout)
	if err := <-browser; err != nil || r.Code != 0 || !strings.Contains(r.Stderr, "Logged in") {
		t.Fatalf("the real response should complete the login: browser %v\n%s", err, r)
	}
}

func TestLoginOpensTheBrowserWithoutTheSecretsOfItsEnvironment(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the opener is xdg-open on Linux only; other systems run open or rundll32")
	}
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none").Set("IDPCTL_SCOPES", loginScopes)
	// A stand-in for xdg-open that writes down what it was given.
	bin := t.TempDir()
	dump := filepath.Join(t.TempDir(), "browser-env")
	script := "#!/bin/sh\nenv > \"$BROWSER_DUMP.tmp\"\necho \"$1\" > \"$BROWSER_DUMP.url\"\nmv \"$BROWSER_DUMP.tmp\" \"$BROWSER_DUMP\"\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	e.Set("PATH", bin+string(os.PathListSeparator)+e.Get("PATH")).Set("BROWSER_DUMP", dump)
	secrets := map[string]string{
		"IDPCTL_CLIENT_SECRET":     "client-secret-in-the-environment",
		"IDPCTL_ADMIN_SECRET":      "admin-secret-in-the-environment",
		"IDPCTL_KEYRING_PASSWORD":  "keyring-password-in-the-environment",
		"GITHUB_TOKEN":             "ghs_token-in-the-environment",
		"DEPLOY_PRIVATE_KEY":       "private-key-in-the-environment",
		"IDPCTL_CLIENT_ASSERTION":  "assertion-in-the-environment",
		"SOME_SERVICE_API_KEY":     "api-key-in-the-environment",
		"IDPCTL_ACCESS_TOKEN":      "access-token-in-the-environment",
		"CI_REGISTRY_PASSWORD":     "registry-password-in-the-environment",
		"IDPCTL_CLIENT_SECRET_RAW": "another-secret-in-the-environment",
	}
	for k, v := range secrets {
		e.Set(k, v)
		e.Secret(v)
	}
	e.Set("KEEP_ME", "an-ordinary-variable")

	proc := start(t, e, "", "login", "--scope", loginScopes)
	deadline := time.Now().Add(30 * time.Second)
	var env []byte
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(dump); err == nil {
			env = b
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if env == nil {
		proc.Signal(syscall.SIGINT)
		t.Fatalf("the browser was not started\n%s", proc.waitResult(runTimeout))
	}
	url, _ := os.ReadFile(dump + ".url")
	browser := browse(p.FollowAuthorization, strings.TrimSpace(string(url)))
	r := proc.waitResult(runTimeout)
	if err := <-browser; err != nil || r.Code != 0 {
		t.Fatalf("login through the stand-in browser: %v\n%s", err, r)
	}
	for k, v := range secrets {
		if strings.Contains(string(env), v) || strings.Contains(string(env), k+"=") {
			t.Errorf("the browser was given %s", k)
		}
	}
	if !strings.Contains(string(env), "KEEP_ME=an-ordinary-variable") {
		t.Errorf("the browser should keep the rest of the environment:\n%s", env)
	}
}

// echoingOkta stands in front of the Okta fake and answers the session
// deletion with Okta's documented error shape (errorCode, errorSummary,
// errorLink, errorId, errorCauses; developer.okta.com/docs/reference/error-codes/)
// whose summary and cause quote the request's Authorization header, as a
// hostile or careless admin API might.
func echoingOkta(t testing.TB, f *oktafake.Server) string {
	t.Helper()
	target, _ := url.Parse(f.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/sessions") {
			auth := r.Header.Get("Authorization")
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Okta-Request-Id", "echo-req-1")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]any{
				"errorCode": "E0000006", "errorSummary": "You do not have permission to perform the requested action with " + auth,
				"errorLink": "E0000006", "errorId": "oae-echo-1",
				"errorCauses": []any{map[string]any{"errorSummary": "credential " + strings.TrimPrefix(auth, "SSWS ")}},
			})
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestHostileAdminAPIEchoingTheCredentialNeverGetsItPrintedAuditedOrJournaled(t *testing.T) {
	t.Parallel()
	const apiToken = "00e2eEchoedApiToken-0123456789abcdef"
	f := oktafake.New(t, oktafake.Options{Token: apiToken})
	t.Cleanup(f.Close)
	f.AddUser(oktafake.User{ID: "00u1alice", Login: "alice@example.com", Email: "alice@example.com"})
	f.AddUser(oktafake.User{ID: "00u2bob", Login: "bob@example.com", Email: "bob@example.com"})
	api := echoingOkta(t, f)
	e := adminEnv(t, "okta", api+"/oauth2/default", apiToken, viaFile, "url="+api)
	e.Set("IDPCTL_STORE", "memory")
	users := e.WriteFile(t, "leavers.txt", "alice@example.com\nbob@example.com\n", false)

	for _, args := range [][]string{
		{"token", "revoke", "--user", "alice@example.com", "--yes"},
		{"token", "revoke", "--user", "alice@example.com", "--yes", "-o", "json"},
		{"token", "revoke", "--users-file", users, "--yes"},
		{"token", "revoke", "--users-file", users, "--yes", "--restart", "-o", "json", "--debug"},
	} {
		r := run(t, e, "", args...)
		if r.Code == 0 {
			t.Fatalf("a refused revocation succeeded\n%s", r)
		}
		if strings.Contains(r.Stdout+r.Stderr, apiToken) {
			t.Errorf("%s: the output quotes the admin credential\n%s", strings.Join(args, " "), r)
		}
		if !strings.Contains(r.Stdout+r.Stderr, "permission") {
			t.Errorf("%s: the vendor's message should still be told\n%s", strings.Join(args, " "), r)
		}
	}
	// Every file the runs left (audit log, journal, caches) is free of it.
	found := 0
	_ = filepath.WalkDir(e.Get("HOME"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), apiToken) {
			t.Errorf("%s holds the admin credential", path)
		}
		if strings.Contains(string(b), "permission") {
			found++
		}
		return nil
	})
	if found == 0 {
		t.Error("no audit or journal file recorded the refusal; the scan looked at nothing")
	}
}

func TestHostileTokenEndpointEchoingTheClientSecretNeverGetsItPrinted(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"client_secret_basic", "client_secret_post"} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			s := hostile.Start(t, hostile.Config{Token: func(w http.ResponseWriter, r *http.Request, _ hostile.Call) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write(hostile.OAuthError("invalid_client", "the secret "+hostileSecret+" is not the one registered"))
			}})
			e := hostileClient(t, s)
			r := run(t, e, "", "token", "get", "--client-auth", auth)
			checkOneLineError(t, e, r, 4, "invalid_client", "is not the one registered")
		})
	}
}

func TestAProxyPasswordIsNeverShownNorWrittenToTheConfigFile(t *testing.T) {
	t.Parallel()
	const pass = "pr0xy-pass-0123456789"
	proxy := "http://alice:" + pass + "@127.0.0.1:9"
	e := newEnv(t).Set("IDPCTL_STORE", "memory")
	name := e.Get("IDPCTL_PROFILE")

	// The user put it on the command line; idpctl must not keep it.
	r := run(t, e, "", "profile", "add", name, "--issuer", "https://idp.example", "--client-id", "c", "--proxy", proxy)
	e.Secret(pass)
	if r.Code != 2 || !strings.Contains(r.Stderr, "alice:xxxxx@127.0.0.1:9") {
		t.Errorf("profile add with a proxy password: want exit 2 and the URL masked\n%s", r)
	}
	cfgPath := filepath.Join(e.Get("XDG_CONFIG_HOME"), "idpctl", "config.yaml")
	if b, err := os.ReadFile(cfgPath); err == nil && strings.Contains(string(b), pass) {
		t.Fatal("the configuration file holds the proxy password")
	}

	// A file written by hand, or an older version, may hold one.
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := "current_profile: " + name + "\nprofiles:\n  " + name + ":\n    issuer: https://idp.example\n    client_id: c\n    proxy: " + proxy + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"profile", "show"}, {"profile", "show", "-o", "json"}} {
		r := mustRun(t, e, "", args...)
		if strings.Contains(r.Stdout+r.Stderr, pass) || !strings.Contains(r.Stdout, "alice:xxxxx@127.0.0.1:9") {
			t.Errorf("%s should show the proxy as alice:xxxxx@127.0.0.1:9\n%s", strings.Join(args, " "), r)
		}
	}
	// A proxy URL that cannot be used is named without its password.
	bad := e.Clone().Set("IDPCTL_PROXY", "http://alice:"+pass+"@")
	r = run(t, bad, "", "token", "get")
	if strings.Contains(r.Stdout+r.Stderr, pass) {
		t.Errorf("an error message quotes the proxy password\n%s", r)
	}
}

func TestATokenOnTheCommandLineDrawsAWarningAndFilesOrStdinDoNot(t *testing.T) {
	t.Parallel()
	s := hostile.Start(t, hostile.Config{Endpoints: map[string]string{}})
	e := hostileClient(t, s)
	tok := s.SignRS256(hostile.KeyID, s.Claims(nil))
	file := e.WriteFile(t, "token.txt", tok+"\n", false)
	warned := func(r Result) bool { return strings.Contains(r.Stderr, "visible in the process list") }

	for _, cmd := range []string{"inspect"} {
		r := mustRun(t, e, "", "token", cmd, "--token-file", file)
		if warned(r) || !strings.Contains(r.Stdout, "hostile-user") {
			t.Errorf("token %s --token-file: want the report and no warning\n%s", cmd, r)
		}
		r = mustRun(t, e, tok+"\n", "token", cmd, "-")
		if warned(r) || !strings.Contains(r.Stdout, "hostile-user") {
			t.Errorf("token %s -: want the report and no warning\n%s", cmd, r)
		}
		r = mustRun(t, e, "", "token", cmd, tok)
		if !warned(r) {
			t.Errorf("token %s TOKEN: want a warning about the process list, even without a terminal\n%s", cmd, r)
		}
		r = run(t, e, "", "token", cmd, "-", "--token-file", file)
		if r.Code != 2 {
			t.Errorf("token %s - --token-file: want exit 2\n%s", cmd, r)
		}
	}
	// revoke: the hostile IdP has no revocation endpoint, so each run ends
	// in exit 7 after reading the token; only the warning differs.
	for _, args := range [][]string{{"--token-file", file}, {"-"}, {tok}} {
		r := run(t, e, tok+"\n", append([]string{"token", "revoke"}, args...)...)
		if want := args[0] == tok; warned(r) != want {
			t.Errorf("token revoke %.12s: warning %v, want %v\n%s", args[0], warned(r), want, r)
		}
	}
	e.Secret(tok)
}

func TestAConfigOrStateDirectoryOthersCanWriteDrawsAWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes only")
	}
	t.Parallel()
	for _, which := range []string{"XDG_CONFIG_HOME", "XDG_STATE_HOME"} {
		t.Run(which, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t).Set("IDPCTL_STORE", "memory")
			dir := filepath.Join(e.Get(which), "idpctl")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			warned := func(r Result) bool {
				return strings.Contains(r.Stderr, "warning: "+dir+" can be written by other users")
			}
			if r := mustRun(t, e, "", "profile", "list"); warned(r) {
				t.Fatalf("a private directory drew a warning\n%s", r)
			}
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			if r := mustRun(t, e, "", "profile", "list"); !warned(r) {
				t.Fatalf("a world-writable %s drew no warning\n%s", dir, r)
			}
			if err := os.Chmod(dir, 0o770); err != nil {
				t.Fatal(err)
			}
			if r := mustRun(t, e, "", "profile", "list"); !warned(r) {
				t.Fatalf("a group-writable %s drew no warning\n%s", dir, r)
			}
		})
	}
}

func TestProfileAddWritesThroughASymlinkedConfigFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need a privilege on Windows")
	}
	t.Parallel()
	e := newEnv(t).Set("IDPCTL_STORE", "memory")
	dotfiles := t.TempDir()
	target := filepath.Join(dotfiles, "idpctl.yaml")
	if err := os.WriteFile(target, []byte("profiles: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(e.Get("XDG_CONFIG_HOME"), "idpctl", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	mustRun(t, e, "", "profile", "add", e.Get("IDPCTL_PROFILE"), "--issuer", "https://idp.example", "--client-id", "c")
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("config.yaml was replaced by a regular file")
	}
	if b, _ := os.ReadFile(target); !strings.Contains(string(b), "https://idp.example") {
		t.Fatalf("the link's target does not hold the new profile:\n%s", b)
	}
}

func TestHostileAdminAPIEchoingTheCredentialInAnAnswerNeverGetsItPrinted(t *testing.T) {
	t.Parallel()
	const apiToken = "00e2eEchoedInAnswer-0123456789abcdef"
	f := oktafake.New(t, oktafake.Options{Token: apiToken})
	t.Cleanup(f.Close)
	f.AddApp(oktafake.OIDCApp("0oa1payroll", "0oa1payroll", "Payroll"))
	target, _ := url.Parse(f.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	// The app's label comes back as the request's credential: a careless
	// API that reflects request headers into its objects.
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		auth := resp.Request.Header.Get("Authorization")
		body = []byte(strings.ReplaceAll(string(body), `"Payroll"`, `"Payroll for `+strings.TrimPrefix(auth, "SSWS ")+`"`))
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	e := adminEnv(t, "okta", srv.URL+"/oauth2/default", apiToken, viaFile, "url="+srv.URL)
	e.Set("IDPCTL_STORE", "memory")
	for _, args := range [][]string{{"app", "list"}, {"app", "list", "-o", "json"}} {
		r := mustRun(t, e, "", args...)
		if strings.Contains(r.Stdout+r.Stderr, apiToken) {
			t.Errorf("%s prints the admin credential\n%s", strings.Join(args, " "), r)
		}
		if !strings.Contains(r.Stdout, "Payroll for") {
			t.Errorf("%s should still list the app\n%s", strings.Join(args, " "), r)
		}
	}
}
