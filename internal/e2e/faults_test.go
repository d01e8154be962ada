package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/hostile"
	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// dropMode is when a dropProxy drops the connection of a refresh request.
type dropMode int

const (
	// dropBeforeForwarding reads the request and closes the connection:
	// the IdP never sees it.
	dropBeforeForwarding dropMode = iota
	// dropAfterForwarding lets the IdP process the request (and rotate the
	// refresh token), then closes the connection without an answer.
	dropAfterForwarding
)

// dropProxy stands in front of an IdP's token endpoint and drops the
// connection of every refresh_token request; other requests pass.
type dropProxy struct {
	URL  string
	mode dropMode
	to   string

	mu       sync.Mutex
	refresh  int
	answered []byte // the IdP's answer the client never saw
}

func startDropProxy(t testing.TB, tokenEndpoint string, mode dropMode) *dropProxy {
	t.Helper()
	d := &dropProxy{mode: mode, to: tokenEndpoint}
	srv := httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(srv.Close)
	d.URL = srv.URL
	return d
}

func (d *dropProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	refresh := form.Get("grant_type") == "refresh_token"
	if refresh {
		d.mu.Lock()
		d.refresh++
		d.mu.Unlock()
	}
	if refresh && d.mode == dropBeforeForwarding {
		hangUp(w)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, d.to, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Accept-Encoding")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if refresh {
		d.mu.Lock()
		d.answered = answer
		d.mu.Unlock()
		hangUp(w)
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// hangUp closes the connection without a byte of answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func (d *dropProxy) refreshes() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.refresh
}

// cachedRefresh is the refresh token the profile holds in the file store,
// or "" when it holds none.
func cachedRefresh(t testing.TB, e *Env) string {
	t.Helper()
	raw := mustRead(t, filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "credentials.json"))
	if !bytes.Contains(raw, []byte(e.Get("IDPCTL_PROFILE")+":refresh_token")) {
		return ""
	}
	rt, _ := fileStoreRecord(t, e, "refresh_token")["refresh_token"].(string)
	return rt
}

// loggedInWithExpiredToken logs a public CLI client in at p with the file
// store, waits until the access token has expired, and returns the
// environment and the cached refresh token.
func loggedInWithExpiredToken(t *testing.T, p *oidcpeer.Peer, ttl time.Duration) (*Env, string) {
	t.Helper()
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_STORE", "file").
		Set("IDPCTL_CLIENT_AUTH_METHOD", "none").Set("IDPCTL_SCOPES", loginScopes)
	login(t, e, p.FollowAuthorization, "--scope", loginScopes)
	learnCachedTokens(t, e)
	rt := cachedRefresh(t, e)
	if rt == "" {
		t.Fatal("the login cached no refresh token")
	}
	time.Sleep(ttl + 300*time.Millisecond)
	return e, rt
}

// TestFaultTheIdPDyingMidRefreshNeverSilentlyLosesTheGrant drops the
// connection of the refresh request of a `token get` whose access token has
// expired, before and after the IdP processed it.
//
// What idpctl does: the refresh POST is sent once and not retried; a
// dropped connection is a network error (exit 5), and the stored refresh
// token is left as it was: nothing is deleted or half-written. If the IdP
// never saw the request, that token still works and the next run succeeds.
// If the IdP did process it, the IdP rotated the token and the stored one is
// consumed, while the rotated one was lost on the wire: no client can save
// an answer it never received. oidc-provider then treats the next use of the
// consumed token as reuse, answers invalid_grant and revokes the grant
// (RFC 9700 §4.14.2). The honest outcome, asserted here, is that the next
// run says so (exit 3, "log in again") instead of failing obscurely or
// succeeding on a corrupt cache, and that a new login repairs the profile.
func TestFaultTheIdPDyingMidRefreshNeverSilentlyLosesTheGrant(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	cases := []struct {
		name string
		mode dropMode
	}{
		{"the connection dropped before the IdP saw the refresh keeps the refresh token usable", dropBeforeForwarding},
		{"the connection dropped after the IdP rotated the refresh token ends in a clear request to log in", dropAfterForwarding},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// A peer per case: the assertions count its refreshes and
			// revoked grants.
			p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: ttl})
			e, stored := loggedInWithExpiredToken(t, p, ttl)
			proxy := startDropProxy(t, p.Issuer+"/token", c.mode)
			faulty := e.Clone().Set("IDPCTL_TOKEN_ENDPOINT", proxy.URL+"/token")
			before := p.Stats(t)

			began := time.Now()
			r := run(t, faulty, "", "token", "get")
			checkOneLineError(t, e, r, 5, "closed")
			if d := time.Since(began); d > 15*time.Second {
				t.Errorf("the failed refresh took %s", d.Round(time.Millisecond))
			}
			if n := proxy.refreshes(); n != 1 {
				t.Errorf("the token endpoint saw %d refresh requests, want 1: a refresh is never retried", n)
			}
			if got := cachedRefresh(t, e); got != stored {
				t.Fatalf("after the dropped refresh the store holds %s, want the refresh token it held before", describeToken(got))
			}
			after := p.Stats(t)
			idpRefreshes := after.TokenRequests["refresh_token"] - before.TokenRequests["refresh_token"]

			switch c.mode {
			case dropBeforeForwarding:
				if idpRefreshes != 0 {
					t.Fatalf("the IdP saw %d refreshes; the proxy should have kept the request from it", idpRefreshes)
				}
				// The stored refresh token still works.
				tok := getToken(t, e)
				if tok == "" {
					t.Fatal("no token after the IdP came back")
				}
				learnCachedTokens(t, e)
				if s := p.Stats(t); s.GrantsRevoked != 0 {
					t.Errorf("the IdP revoked %d grants: the refresh token was replayed", s.GrantsRevoked)
				}
			case dropAfterForwarding:
				if idpRefreshes != 1 || !bytes.Contains(proxy.answered, []byte(`"refresh_token"`)) {
					t.Fatalf("the IdP processed %d refreshes and answered %d bytes; the test needs it to have rotated the token once", idpRefreshes, len(proxy.answered))
				}
				r := run(t, e, "", "token", "get")
				checkOneLineError(t, e, r, 3, "log in again")
				// A new login repairs the profile: nothing left in the
				// store stands in its way.
				login(t, e, p.FollowAuthorization, "--scope", loginScopes)
				learnCachedTokens(t, e)
				getToken(t, e)
			}
		})
	}
}

// describeToken names a stored value without showing it.
func describeToken(s string) string {
	if s == "" {
		return "no refresh token"
	}
	return "another refresh token"
}

// unixListener listens on a socket in a short temporary directory (socket
// paths are limited to about 100 bytes, and t.TempDir can be longer).
func unixListener(t testing.TB) (net.Listener, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "idpctl-bus-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	path := filepath.Join(dir, "bus")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("listen on %s: %v", path, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln, path
}

func TestFaultAKeychainThatIsGoneOrMuteFailsFastWithExitCode6(t *testing.T) {
	t.Parallel()
	s := hostile.Start(t, hostile.Config{})
	cases := []struct {
		name string
		bus  func(t *testing.T) string
		// within bounds the run: the keychain calls have a 3s timeout.
		within time.Duration
	}{
		{
			name: "a session bus address whose socket does not exist",
			bus: func(t *testing.T) string {
				return "unix:path=" + filepath.Join(t.TempDir(), "no-such-bus")
			},
			within: 10 * time.Second,
		},
		{
			name: "a session bus that accepts the connection and never answers",
			bus: func(t *testing.T) string {
				ln, path := unixListener(t)
				var mu sync.Mutex
				var conns []net.Conn
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						mu.Lock()
						conns = append(conns, c) // held open, never answered
						mu.Unlock()
					}
				}()
				t.Cleanup(func() {
					mu.Lock()
					defer mu.Unlock()
					for _, c := range conns {
						_ = c.Close()
					}
				})
				return "unix:path=" + path
			},
			within: 15 * time.Second,
		},
	}
	commands := [][]string{{"token", "get"}, {"token", "list"}}
	for _, c := range cases {
		for _, args := range commands {
			t.Run(c.name+": "+strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				e := hostileClient(t, s).Set("IDPCTL_STORE", "keychain").
					Set("DBUS_SESSION_BUS_ADDRESS", c.bus(t)).Set("XDG_RUNTIME_DIR", t.TempDir())
				began := time.Now()
				r := start(t, e, "", args...).waitResult(c.within + 5*time.Second)
				if d := time.Since(began); d > c.within {
					t.Errorf("the run took %s, want at most %s", d.Round(time.Millisecond), c.within)
				}
				checkOneLineError(t, e, r, 6, "keychain", "--store file", "--store memory")
				if r.Stdout != "" {
					t.Errorf("a failing command printed on stdout:\n%s", r)
				}
			})
		}
	}
}

// readOnlyRunner runs idpctl with dir read-only for that run only. As
// root, permission bits do not stop writes, so the process gets a private
// mount namespace in which dir is bind-mounted read-only onto itself; the
// mount vanishes with the process. Otherwise dir is made unwritable with
// chmod while the process runs.
type readOnlyRunner func(t *testing.T, e *Env, stdin string, args ...string) Result

func readOnly(t *testing.T, dir string) readOnlyRunner {
	t.Helper()
	if os.Geteuid() != 0 {
		return func(t *testing.T, e *Env, stdin string, args ...string) Result {
			t.Helper()
			if err := os.Chmod(dir, 0o500); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = os.Chmod(dir, 0o700) }()
			return run(t, e, stdin, args...)
		}
	}
	// Probe once: a container may forbid new mount namespaces.
	probe := readOnlyCommand(context.Background(), dir, "sh", "-c", `! touch "$0/probe" 2>/dev/null`, dir)
	if out, err := probe.CombinedOutput(); err != nil {
		reason := "cannot make a directory read-only for root: no private mount namespace with a read-only bind mount here: " + err.Error() + ": " + strings.TrimSpace(string(out))
		if os.Getenv("CI") != "" {
			t.Fatal(reason)
		}
		t.Skip(reason)
	}
	return func(t *testing.T, e *Env, stdin string, args ...string) Result {
		t.Helper()
		if binary.err != nil {
			t.Fatalf("idpctl was not built: %v", binary.err)
		}
		if i := argvLeak(args, e.Secrets()); i >= 0 {
			t.Fatalf("argument %d of idpctl %s carries a secret", i, args[0])
		}
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		defer cancel()
		cmd := readOnlyCommand(ctx, dir, binary.path, args...)
		cmd.Env = e.environ()
		cmd.Dir = e.dir
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("run idpctl in a mount namespace: %v\n%s", err, stderr.String())
		}
		return Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
	}
}

// readOnlyCommand runs name with args in a new mount namespace (which Go
// makes private, so nothing propagates back) after mounting dir read-only.
func readOnlyCommand(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	script := `mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"`
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", script, dir, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func TestFaultAReadOnlyStateDirectoryFailsWithExitCode6BeforeSpendingTheRefreshToken(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: ttl})
	e, stored := loggedInWithExpiredToken(t, p, ttl)
	dir := filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl")
	runRO := readOnly(t, dir)
	before := p.Stats(t)

	t.Run("token get with an expired access token", func(t *testing.T) {
		r := runRO(t, e, "", "token", "get")
		checkOneLineError(t, e, r, 6, dir)
		if r.Stdout != "" {
			t.Errorf("a failing command printed on stdout:\n%s", r)
		}
		// The refresh token must not be spent on a token that cannot be
		// stored: the rotated one would be lost with it.
		if n := p.Stats(t).TokenRequests["refresh_token"] - before.TokenRequests["refresh_token"]; n != 0 {
			t.Errorf("the IdP saw %d refresh requests from a run that could not store the answer", n)
		}
	})
	t.Run("profile add with a secret for the store", func(t *testing.T) {
		added := e.Clone().Unset("IDPCTL_PROFILE")
		name := profileName(t)
		r := runRO(t, added, p.Secrets[oidcpeer.ClientCCBasic]+"\n", "profile", "add", name,
			"--issuer", p.Issuer, "--client-id", oidcpeer.ClientCCBasic, "--client-secret-stdin")
		checkOneLineError(t, e, r, 6, dir)
		// No half-made profile whose secret is missing.
		if cfg, err := os.ReadFile(filepath.Join(e.Get("XDG_CONFIG_HOME"), "idpctl", "config.yaml")); err == nil && bytes.Contains(cfg, []byte(name)) {
			t.Errorf("the failed profile add left profile %s in config.yaml", name)
		}
	})
	t.Run("once the directory is writable again the stored refresh token works", func(t *testing.T) {
		if got := cachedRefresh(t, e); got != stored {
			t.Fatalf("the store holds %s after the read-only runs", describeToken(got))
		}
		getToken(t, e)
		if s := p.Stats(t); s.GrantsRevoked != 0 {
			t.Errorf("the IdP revoked %d grants", s.GrantsRevoked)
		}
	})
}
