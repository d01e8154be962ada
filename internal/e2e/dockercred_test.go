package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// buildDockerHelper builds cmd/docker-credential-idpctl beside the idpctl
// binary TestMain built, into the test's own directory.
func buildDockerHelper(t *testing.T) string {
	t.Helper()
	if binary.err != nil {
		t.Fatalf("idpctl was not built: %v", binary.err)
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "docker-credential-idpctl")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/docker-credential-idpctl")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/docker-credential-idpctl: %v\n%s", err, out)
	}
	return bin
}

// runHelper runs the docker helper as docker does: the verb in argv, the
// input on stdin, stdout captured.
func runHelper(t *testing.T, bin string, e *Env, stdin string, args ...string) Result {
	t.Helper()
	if i := argvLeak(args, e.Secrets()); i >= 0 {
		t.Fatalf("argument %d carries a secret", i)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = e.environ(), e.dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return Result{Args: append([]string{"(docker-credential-idpctl)"}, args...), Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

type dockerCred struct {
	ServerURL, Username, Secret string
}

func TestDockerCredentialHelperAnswersWithAProfileToken(t *testing.T) {
	t.Parallel()
	bin := buildDockerHelper(t)
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "file")
	secretFile := e.Get("IDPCTL_CLIENT_SECRET_FILE")
	// Only the configuration file names the profiles.
	e.Unset("IDPCTL_ISSUER").Unset("IDPCTL_CLIENT_ID").Unset("IDPCTL_CLIENT_SECRET_FILE")
	cfg := fmt.Sprintf(`profiles:
  corp:
    issuer: %[1]s
    client_id: %[2]s
    client_secret_file: %[3]s
  robot:
    issuer: %[1]s
    client_id: %[2]s
    client_secret_file: %[3]s
docker_registries:
  registry.example.com: corp
  other.example.com:5000: {profile: robot, username: robot-user}
  broken.example.com: nosuchprofile
`, p.Issuer, oidcpeer.ClientCCBasic, secretFile)
	e.Set("IDPCTL_CONFIG", e.WriteFile(t, "config.yaml", cfg, false))
	introspection := discoveryField(t, p, "introspection_endpoint")

	get := func(t *testing.T, serverURL string) dockerCred {
		t.Helper()
		r := runHelper(t, bin, e, serverURL+"\n", "get")
		var c dockerCred
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &c) != nil {
			t.Fatalf("get %s: want a JSON credential\n%s", serverURL, r)
		}
		e.Secret(c.Secret)
		return c
	}

	var first string
	t.Run("get answers the profile's token for the registry", func(t *testing.T) {
		c := get(t, "registry.example.com")
		first = c.Secret
		if c.ServerURL != "registry.example.com" || c.Username != "oauth2accesstoken" || c.Secret == "" {
			t.Fatalf("credential %+v", dockerCred{c.ServerURL, c.Username, "(hidden)"})
		}
		if !introspectActive(t, p, introspection, c.Secret) {
			t.Fatal("the secret is not an active token at the IdP")
		}
	})
	t.Run("the same registry written as a URL gets the cached token", func(t *testing.T) {
		grants := tokenCount(t, p, "client_credentials")
		if c := get(t, "https://registry.example.com/"); c.Secret != first || c.ServerURL != "https://registry.example.com/" {
			t.Error("a URL form of the registry did not get the cached token")
		}
		if tokenCount(t, p, "client_credentials") != grants {
			t.Error("a cached token was fetched again")
		}
	})
	t.Run("a registry with its own profile and user name", func(t *testing.T) {
		c := get(t, "other.example.com:5000")
		if c.Username != "robot-user" || c.Secret == first || !introspectActive(t, p, introspection, c.Secret) {
			t.Errorf("user %q, secret same as corp's: %v", c.Username, c.Secret == first)
		}
	})
	t.Run("list names the registries and user names", func(t *testing.T) {
		r := runHelper(t, bin, e, "", "list")
		var m map[string]string
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &m) != nil {
			t.Fatalf("list\n%s", r)
		}
		want := map[string]string{"registry.example.com": "oauth2accesstoken", "other.example.com:5000": "robot-user", "broken.example.com": "oauth2accesstoken"}
		if fmt.Sprint(m) != fmt.Sprint(want) {
			t.Errorf("list = %v, want %v", m, want)
		}
	})
	t.Run("an unknown registry answers the protocol's not found", func(t *testing.T) {
		r := runHelper(t, bin, e, "unknown.example.com\n", "get")
		if r.Code != 1 || r.Stdout != "credentials not found in native keychain\n" {
			t.Errorf("want exit 1 and the protocol's message on stdout\n%s", r)
		}
	})
	t.Run("a registry mapped to a missing profile is a usage error", func(t *testing.T) {
		r := runHelper(t, bin, e, "broken.example.com\n", "get")
		if r.Code != 2 || !strings.Contains(r.Stdout, "nosuchprofile") {
			t.Errorf("want exit 2 naming the profile\n%s", r)
		}
	})
	t.Run("erase forgets the token, the next get obtains a new one", func(t *testing.T) {
		if r := runHelper(t, bin, e, "registry.example.com\n", "erase"); r.Code != 0 || r.Stdout != "" {
			t.Fatalf("erase\n%s", r)
		}
		grants := tokenCount(t, p, "client_credentials")
		if c := get(t, "registry.example.com"); c.Secret == first {
			t.Error("get returned the erased token")
		}
		if n := tokenCount(t, p, "client_credentials") - grants; n != 1 {
			t.Errorf("%d grants after erase, want 1", n)
		}
	})
	t.Run("store is accepted; a malformed one is refused without echoing it", func(t *testing.T) {
		if r := runHelper(t, bin, e, `{"ServerURL":"registry.example.com","Username":"u","Secret":"s3cr3t-from-docker"}`, "store"); r.Code != 0 {
			t.Errorf("store\n%s", r)
		}
		r := runHelper(t, bin, e, `{"ServerURL": s3cr3t-from-docker`, "store")
		if r.Code != 2 || strings.Contains(r.Stdout+r.Stderr, "s3cr3t") {
			t.Errorf("want exit 2 without the input\n%s", r)
		}
	})
	t.Run("an unknown verb is a usage error", func(t *testing.T) {
		if r := runHelper(t, bin, e, "", "frobnicate"); r.Code != 2 {
			t.Errorf("want exit 2\n%s", r)
		}
	})
	t.Run("version", func(t *testing.T) {
		if r := runHelper(t, bin, e, "", "version"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "docker-credential-idpctl ") {
			t.Errorf("version\n%s", r)
		}
	})
}
