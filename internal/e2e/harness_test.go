package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// binary is the idpctl built by TestMain, or why it could not be built.
// TestMain does not exit on a failed build: each test reports the error,
// so `go test -run` of one test still says what went wrong.
var binary struct {
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "idpctl-e2e-bin-")
	if err != nil {
		binary.err = fmt.Errorf("temp dir for the binary: %w", err)
	} else {
		binary.path, binary.err = buildBinary(dir)
	}
	guard := startOffLoopbackGuard()
	offLoopbackProxy = guard.URL
	code := m.Run()
	guard.Close()
	if seen := guard.seen(); len(seen) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: the binary tried to reach %d host(s) off loopback, which tests must not: %s\n", len(seen), strings.Join(seen, ", "))
		if code == 0 {
			code = 1
		}
	}
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// offLoopbackProxy is the guard every test environment names as its
// HTTP_PROXY and HTTPS_PROXY. idpctl never sends loopback traffic through
// a proxy, so whatever reaches the guard was headed off the machine: it
// is refused (403) and recorded, and TestMain fails the run. Tests that
// need their own proxy set it over this one.
var offLoopbackProxy string

type offLoopbackGuard struct {
	*httptest.Server
	mu    sync.Mutex
	hosts map[string]bool
}

func startOffLoopbackGuard() *offLoopbackGuard {
	g := &offLoopbackGuard{hosts: map[string]bool{}}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.hosts[r.Host] = true
		g.mu.Unlock()
		http.Error(w, "idpctl e2e: tests reach loopback only", http.StatusForbidden)
	}))
	return g
}

func (g *offLoopbackGuard) seen() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(g.hosts))
	for h := range g.hosts {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// buildBinary builds cmd/idpctl from the module root, found with
// `go env GOMOD` so the tests work from any working directory.
func buildBinary(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the idpctl module (go env GOMOD is empty)")
	}
	bin := filepath.Join(dir, "idpctl")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/idpctl")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/idpctl: %w\n%s", err, out)
	}
	return bin, nil
}

const (
	// runTimeout bounds one idpctl invocation; the slowest legitimate one
	// (discovery of a closed port, with its back-off) takes under 10s.
	runTimeout = 60 * time.Second
	// storeEnvVar chooses the credential store of the caching tests.
	storeEnvVar = "IDPCTL_E2E_STORE"
)

// suiteStore is the credential store for tests that cache across
// invocations: file unless IDPCTL_E2E_STORE says otherwise.
func suiteStore(t testing.TB) string {
	t.Helper()
	switch s := os.Getenv(storeEnvVar); s {
	case "":
		return "file"
	case "file", "keychain", "memory":
		return s
	default:
		t.Fatalf("%s=%q: want file, keychain or memory", storeEnvVar, s)
		return ""
	}
}

// Env is the environment of the idpctl processes of one test: only PATH,
// a private HOME and XDG directories, a profile name of its own, and what
// the test sets. It also records every secret the test knows, so that no
// invocation can carry one on its command line unnoticed.
type Env struct {
	dir     string
	vars    map[string]string
	secrets *secretSet
}

type secretSet struct {
	mu   sync.Mutex
	vals []string
}

func (s *secretSet) add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		// Shorter values (a 1-byte field) would match by accident.
		if v = strings.TrimSpace(v); len(v) >= 8 {
			s.vals = append(s.vals, v)
		}
	}
}

func (s *secretSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.vals...)
}

// newEnv returns a clean environment using the suite's store.
func newEnv(t testing.TB) *Env {
	t.Helper()
	home := t.TempDir()
	store := suiteStore(t)
	e := &Env{
		dir:     t.TempDir(),
		secrets: &secretSet{},
		vars: map[string]string{
			"PATH":            os.Getenv("PATH"),
			"HOME":            home,
			"XDG_CONFIG_HOME": filepath.Join(home, ".config"),
			"XDG_STATE_HOME":  filepath.Join(home, ".local", "state"),
			"XDG_CACHE_HOME":  filepath.Join(home, ".cache"),
			"IDPCTL_STORE":    store,
			// The keychain is shared by every test of the run, so each
			// test uses a profile name nobody else does.
			"IDPCTL_PROFILE": profileName(t),
			// Anything headed off the machine meets the guard instead.
			"HTTP_PROXY":  offLoopbackProxy,
			"HTTPS_PROXY": offLoopbackProxy,
		},
	}
	if store == "keychain" {
		for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} {
			if v := os.Getenv(k); v != "" {
				e.vars[k] = v
			}
		}
		t.Cleanup(func() { e.forget(t) })
	}
	return e
}

// forget removes the profile's keychain items after the test.
func (e *Env) forget(t testing.TB) {
	c := e.Clone()
	if c.vars["IDPCTL_ISSUER"] == "" {
		// --local-only never contacts it; the profile only needs one.
		c.vars["IDPCTL_ISSUER"] = "http://127.0.0.1:9"
	}
	c.vars["IDPCTL_STORE"] = "keychain"
	p := start(t, c, "", "logout", "--local-only")
	if r := p.waitResult(runTimeout); r.Code != 0 {
		t.Logf("clean-up: logout --local-only exited %d: %s", r.Code, r.Stderr)
	}
}

func profileName(t testing.TB) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	name = strings.Trim(name, "-")
	if len(name) > 40 {
		name = name[:40]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "e2e-" + name + "-" + hex.EncodeToString(b)
}

// Set sets a variable and returns e for chaining.
func (e *Env) Set(k, v string) *Env {
	e.vars[k] = v
	return e
}

// Unset removes a variable.
func (e *Env) Unset(k string) *Env {
	delete(e.vars, k)
	return e
}

// Get returns a variable's value.
func (e *Env) Get(k string) string { return e.vars[k] }

// Clone copies the variables; the secrets stay shared, so a secret learnt
// through either is guarded in both.
func (e *Env) Clone() *Env {
	c := *e
	c.vars = make(map[string]string, len(e.vars))
	for k, v := range e.vars {
		c.vars[k] = v
	}
	return &c
}

// WithNewProfile is a clone of e using a profile of its own, sharing the
// directories (and so the discovery cache and the file store).
func (e *Env) WithNewProfile(t testing.TB) *Env {
	t.Helper()
	c := e.Clone().Set("IDPCTL_PROFILE", profileName(t))
	if c.vars["IDPCTL_STORE"] == "keychain" {
		t.Cleanup(func() { c.forget(t) })
	}
	return c
}

// Secret records values that must never appear on a command line.
func (e *Env) Secret(vals ...string) { e.secrets.add(vals...) }

// SecretPEM records a PEM document and each of its base64 lines, so that
// a key cannot slip onto argv piecemeal either.
func (e *Env) SecretPEM(pem []byte) {
	e.Secret(string(pem))
	for _, line := range strings.Split(string(pem), "\n") {
		if !strings.HasPrefix(line, "-----") {
			e.Secret(line)
		}
	}
}

// Secrets lists the recorded secrets.
func (e *Env) Secrets() []string { return e.secrets.list() }

// WriteFile writes a 0600 file in the test's directory and returns its
// path. With secret set, the content is recorded as a secret.
func (e *Env) WriteFile(t testing.TB, name, content string, secret bool) string {
	t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	if secret {
		e.Secret(content)
	}
	return path
}

func (e *Env) environ() []string {
	out := make([]string, 0, len(e.vars))
	for k, v := range e.vars {
		out = append(out, k+"="+v)
	}
	return out
}

// peerEnv is an environment for one client of an oidc-provider peer. The
// client secret, when the client has one, comes from a file; every key and
// secret of the peer is recorded, whichever client the test uses.
func peerEnv(t testing.TB, p *oidcpeer.Peer, clientID string) *Env {
	t.Helper()
	e := newEnv(t)
	e.Set("IDPCTL_ISSUER", p.Issuer).Set("IDPCTL_CLIENT_ID", clientID)
	for _, s := range p.Secrets {
		e.Secret(s)
	}
	for _, pem := range p.PrivateKeyPEM {
		e.SecretPEM(pem)
	}
	for _, jwk := range p.PrivateKeyJWK {
		e.Secret(string(jwk))
		e.Secret(jwkPrivateMembers(t, jwk)...)
	}
	e.SecretPEM(p.AssertionKeyPEM)
	e.Secret(jwkPrivateMembers(t, p.AssertionKeyJWK)...)
	if s, ok := p.Secrets[clientID]; ok {
		e.Set("IDPCTL_CLIENT_SECRET_FILE", e.WriteFile(t, "client-secret", s+"\n", true))
	}
	return e
}

// Result is how one idpctl invocation ended.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	// Code is the exit status; -1 when a signal ended the process.
	Code int
}

func (r Result) String() string {
	return fmt.Sprintf("idpctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// run runs idpctl to completion with stdin (none when empty), killing it if
// it takes longer than runTimeout.
func run(t testing.TB, e *Env, stdin string, args ...string) Result {
	t.Helper()
	return start(t, e, stdin, args...).waitResult(runTimeout)
}

// mustRun is run expecting exit status 0.
func mustRun(t testing.TB, e *Env, stdin string, args ...string) Result {
	t.Helper()
	r := run(t, e, stdin, args...)
	if r.Code != 0 {
		t.Fatalf("want exit 0\n%s", r)
	}
	return r
}

// wantExit is run expecting the given exit status and an empty stdout:
// a failing command prints no data.
func wantExit(t testing.TB, e *Env, code int, stdin string, args ...string) Result {
	t.Helper()
	r := run(t, e, stdin, args...)
	if r.Code != code {
		t.Fatalf("want exit %d\n%s", code, r)
	}
	if code != 0 && r.Stdout != "" {
		t.Errorf("a failing command printed on stdout:\n%s", r)
	}
	return r
}

// Proc is an idpctl process running in the background.
type Proc struct {
	t      testing.TB
	args   []string
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	code   int
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start starts idpctl in the background. It fails the test before starting
// anything if an argument carries a recorded secret.
func start(t testing.TB, e *Env, stdin string, args ...string) *Proc {
	t.Helper()
	if binary.err != nil {
		t.Fatalf("idpctl was not built: %v", binary.err)
	}
	if i := argvLeak(args, e.Secrets()); i >= 0 {
		t.Fatalf("argument %d of idpctl %s carries a secret; secrets go in files, the environment or stdin", i, args[0])
	}
	p := &Proc{t: t, args: args, done: make(chan struct{})}
	p.cmd = exec.Command(binary.path, args...)
	p.cmd.Env = e.environ()
	p.cmd.Dir = e.dir
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	if stdin != "" {
		p.cmd.Stdin = strings.NewReader(stdin)
	}
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start idpctl: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.Signal(syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

// argvLeak returns the index of the first argument containing a secret,
// or -1.
func argvLeak(args, secrets []string) int {
	for i, a := range args {
		for _, s := range secrets {
			if strings.Contains(a, s) {
				return i
			}
		}
	}
	return -1
}

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Signal sends sig to this process only, by its PID.
func (p *Proc) Signal(sig syscall.Signal) {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("signal %v to pid %d: %v", sig, p.PID(), err)
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// waitResult waits for the exit, killing the process and failing the test
// after timeout.
func (p *Proc) waitResult(timeout time.Duration) Result {
	p.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		p.Signal(syscall.SIGKILL)
		<-p.done
		p.t.Fatalf("idpctl %s did not finish within %s; killed\n%s", strings.Join(p.args, " "), timeout, p.result())
	}
	return p.result()
}

func (p *Proc) result() Result {
	code := -1
	select {
	case <-p.done:
		code = p.code
	default:
	}
	return Result{Args: p.args, Stdout: p.stdout.String(), Stderr: p.stderr.String(), Code: code}
}

// waitStderr waits until stderr matches re and returns the submatches. It
// fails the test if the process exits first or the timeout passes.
func (p *Proc) waitStderr(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	return p.waitOutput(&p.stderr, re, timeout)
}

// waitStdout is waitStderr for stdout.
func (p *Proc) waitStdout(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	return p.waitOutput(&p.stdout, re, timeout)
}

func (p *Proc) waitOutput(out *syncBuffer, re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			if m := re.FindStringSubmatch(out.String()); m != nil {
				return m
			}
			p.t.Fatalf("idpctl exited before printing %q\n%s", re, p.result())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("idpctl did not print %q within %s\n%s", re, timeout, p.result())
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	_, port, err := net.SplitHostPort(closedPort(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// browse plays the user's browser in a goroutine and reports its error.
func browse(follow func(context.Context, string) error, authURL string) <-chan error {
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		errc <- follow(ctx, authURL)
	}()
	return errc
}
