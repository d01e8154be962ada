package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// requireGit finds git and git-http-backend; in CI their absence fails.
func requireGit(t *testing.T) (gitPath, execPath string) {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err == nil {
		var out []byte
		if out, err = exec.Command(gitPath, "--exec-path").Output(); err == nil {
			execPath = strings.TrimSpace(string(out))
			_, err = os.Stat(filepath.Join(execPath, "git-http-backend"))
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git with git-http-backend is required in CI: %v", err)
		}
		t.Skipf("git with git-http-backend is not available: %v", err)
	}
	return gitPath, execPath
}

// gitServer serves repositories over smart HTTP with git http-backend
// (CGI), admitting only requests whose Basic password is an access token
// the peer's introspection calls active (RFC 7662).
type gitServer struct {
	*httptest.Server
	mu       sync.Mutex
	seen     []string // passwords presented, in order
	users    []string
	rejected map[string]bool
}

func newGitServer(t *testing.T, p *oidcpeer.Peer, gitPath, root string) *gitServer {
	t.Helper()
	introspection := discoveryField(t, p, "introspection_endpoint")
	backend := &cgi.Handler{
		Path: gitPath, Args: []string{"http-backend"}, Dir: root,
		Env:        []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + root},
		InheritEnv: []string{"PATH"},
	}
	gs := &gitServer{rejected: map[string]bool{}}
	gs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok {
			gs.mu.Lock()
			gs.seen = append(gs.seen, pass)
			gs.users = append(gs.users, user)
			rejected := gs.rejected[pass]
			gs.mu.Unlock()
			ok = !rejected && introspectActive(t, p, introspection, pass)
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		r.Header.Del("Authorization")
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(gs.Close)
	return gs
}

func (gs *gitServer) passwords() []string {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return append([]string(nil), gs.seen...)
}

func (gs *gitServer) reject(token string) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	gs.rejected[token] = true
}

// introspectActive asks the peer, as the resource server cc-basic, whether
// a token is active.
func introspectActive(t *testing.T, p *oidcpeer.Peer, endpoint, token string) bool {
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oidcpeer.ClientCCBasic, p.Secrets[oidcpeer.ClientCCBasic])
	resp, err := p.HTTPClient().Do(req)
	if err != nil {
		t.Errorf("introspection: %v", err)
		return false
	}
	defer resp.Body.Close()
	var in struct {
		Active bool `json:"active"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&in)
	return in.Active
}

// gitEnv is e's environment for git, isolated from the machine's git
// configuration and unable to prompt, with idpctl as the helper for the
// server's URL only.
func gitEnv(t *testing.T, e *Env, gitPath, serverURL string, helperArgs string) []string {
	t.Helper()
	home := t.TempDir()
	env := append(e.environ(),
		"HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(home, ".gitconfig"),
		"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=",
		"GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.invalid",
		"GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.invalid",
	)
	if serverURL != "" {
		mustGit(t, env, "", gitPath, "config", "--global", "credential."+serverURL+".helper", "!"+binary.path+" git-credential"+helperArgs)
	}
	return env
}

func gitCmd(env []string, dir, gitPath string, args ...string) (string, error) {
	cmd := exec.Command(gitPath, args...)
	cmd.Env, cmd.Dir = env, dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustGit(t *testing.T, env []string, dir, gitPath string, args ...string) string {
	t.Helper()
	out, err := gitCmd(env, dir, gitPath, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// bareRepo makes root/repo.git holding one commit with README on main.
func bareRepo(t *testing.T, env []string, gitPath, root string) {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	mustGit(t, env, "", gitPath, "init", "-q", "-b", "main", work)
	if err := os.WriteFile(filepath.Join(work, "README"), []byte("hello over http\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustGit(t, env, work, gitPath, "add", "README")
	mustGit(t, env, work, gitPath, "commit", "-q", "-m", "first")
	mustGit(t, env, "", gitPath, "clone", "-q", "--bare", work, filepath.Join(root, "repo.git"))
}

func TestGitCloneOverHTTPUsesATokenFromTheCredentialHelper(t *testing.T) {
	t.Parallel()
	gitPath, _ := requireGit(t)
	if binary.err != nil {
		t.Fatalf("idpctl was not built: %v", binary.err)
	}
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "file")
	root := t.TempDir()
	bareRepo(t, gitEnv(t, e, gitPath, "", ""), gitPath, root)
	gs := newGitServer(t, p, gitPath, root)
	env := gitEnv(t, e, gitPath, gs.URL, " --username e2e-bot")
	repoURL := gs.URL + "/repo.git"
	clone := filepath.Join(t.TempDir(), "clone")

	t.Run("clone with the profile's token", func(t *testing.T) {
		mustGit(t, env, "", gitPath, "clone", "-q", repoURL, clone)
		if b, err := os.ReadFile(filepath.Join(clone, "README")); err != nil || string(b) != "hello over http\n" {
			t.Fatalf("the clone has README %q, %v", b, err)
		}
		seen := gs.passwords()
		if len(seen) == 0 {
			t.Fatal("git never presented a credential")
		}
		e.Secret(seen...)
		// The helper answered with the profile's cached token.
		if cached := getToken(t, e); cached != seen[len(seen)-1] {
			t.Error("the password git sent is not the profile's cached access token")
		}
		gs.mu.Lock()
		users := append([]string(nil), gs.users...)
		gs.mu.Unlock()
		if users[len(users)-1] != "e2e-bot" {
			t.Errorf("user name %q, want e2e-bot from --username", users[len(users)-1])
		}
	})
	t.Run("a rejected token is erased and replaced on the next request", func(t *testing.T) {
		seen := gs.passwords()
		old := seen[len(seen)-1]
		gs.reject(old)
		grants := tokenCount(t, p, "client_credentials")
		if out, err := gitCmd(env, clone, gitPath, "fetch", "-q"); err == nil {
			t.Fatalf("fetch with a rejected token succeeded:\n%s", out)
		}
		// git ran erase with the rejected token: the next fetch gets a new one.
		mustGit(t, env, clone, gitPath, "fetch", "-q")
		seen = gs.passwords()
		if last := seen[len(seen)-1]; last == old {
			t.Fatal("git presented the rejected token again: erase did not forget it")
		}
		e.Secret(seen...)
		if n := tokenCount(t, p, "client_credentials") - grants; n != 1 {
			t.Errorf("%d client credentials grants, want 1 for the replacement", n)
		}
	})
}

func TestGitCredentialSpeaksTheHelperProtocol(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "file")
	loopback := "protocol=http\nhost=127.0.0.1:8080\npath=repo.git\n"

	var token string
	t.Run("get answers username, password and expiry", func(t *testing.T) {
		start := time.Now()
		r := mustRun(t, e, "protocol=https\nhost=git.example.com\nusername=alice\n\n", "git-credential", "get")
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n") {
			k, v, _ := strings.Cut(line, "=")
			got[k] = v
		}
		token = got["password"]
		e.Secret(token)
		if got["username"] != "alice" || token == "" || len(got) != 3 {
			t.Fatalf("answer %q: want username alice (git's), a password and an expiry", r.Stdout)
		}
		exp, err := strconv.ParseInt(got["password_expiry_utc"], 10, 64)
		if err != nil || exp < start.Add(9*time.Minute).Unix() || exp > time.Now().Add(11*time.Minute).Unix() {
			t.Errorf("password_expiry_utc %q, want about 10 minutes from now", got["password_expiry_utc"])
		}
	})
	t.Run("store is accepted and changes nothing", func(t *testing.T) {
		r := mustRun(t, e, loopback+"username=oauth2\npassword=whatever-git-had\n\n", "git-credential", "store")
		if r.Stdout != "" || getToken(t, e) != token {
			t.Errorf("store printed %q or changed the cached token", r.Stdout)
		}
	})
	t.Run("erase of another token leaves the cached one", func(t *testing.T) {
		mustRun(t, e, loopback+"password=some-older-token\n\n", "git-credential", "erase")
		if getToken(t, e) != token {
			t.Error("erase of a token that is not cached dropped the cached one")
		}
	})
	t.Run("erase of the cached token forgets it", func(t *testing.T) {
		mustRun(t, e, loopback+"password="+token+"\n\n", "git-credential", "erase")
		if getToken(t, e) == token {
			t.Error("the erased token is still returned")
		}
	})
	t.Run("plain http to a remote host gets no token", func(t *testing.T) {
		r := wantExit(t, e, 2, "protocol=http\nhost=git.example.com\n\n", "git-credential", "get")
		if !strings.Contains(r.Stderr, "plain http") {
			t.Errorf("want the reason:\n%s", r)
		}
	})
	t.Run("an unknown action is ignored", func(t *testing.T) {
		r := mustRun(t, e, loopback+"\n", "git-credential", "frobnicate")
		if r.Stdout != "" {
			t.Errorf("printed %q", r.Stdout)
		}
	})
	t.Run("no action is a usage error", func(t *testing.T) {
		wantExit(t, e, 2, "", "git-credential")
	})
	t.Run("a DPoP-bound token is not handed out as a password", func(t *testing.T) {
		// git sends the password as Basic on every request, with no proof.
		e2 := peerEnv(t, p, oidcpeer.ClientCCDPoP).Set("IDPCTL_STORE", "file")
		r := wantExit(t, e2, 2, loopback+"\n", "git-credential", "get")
		if strings.Contains(r.Stdout, "password=") || !strings.Contains(r.Stderr, "DPoP") {
			t.Errorf("want no password and the reason:\n%s", r)
		}
	})
	t.Run("a profile without credentials says so", func(t *testing.T) {
		e2 := newEnv(t).Set("IDPCTL_ISSUER", p.Issuer).Set("IDPCTL_CLIENT_ID", oidcpeer.ClientCCBasic).Set("IDPCTL_CLIENT_AUTH_METHOD", "client_secret_basic")
		// A missing client secret is a configuration error (exit 2).
		r := wantExit(t, e2, 2, loopback+"\n", "git-credential", "get")
		if !strings.Contains(r.Stderr, "client secret") {
			t.Errorf("want the missing secret named:\n%s", r)
		}
	})
}
