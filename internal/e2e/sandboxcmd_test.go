package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDemoWalksThroughTheLifecycleSuccessfully(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := mustRun(t, e, "", "demo")
	if !regexp.MustCompile(`All \d+ steps behaved as the standards say\.`).MatchString(r.Stdout) || strings.Contains(r.Stdout, "✗") {
		t.Errorf("the demo did not report every step as behaving:\n%s", r.Stdout)
	}
	if jwtShape.MatchString(r.Stdout + r.Stderr) {
		t.Error("the demo printed a whole JWT")
	}
	// The admin half: an offboarding through the sandbox's admin API.
	for _, want := range []string{
		"token revoke --user user-0001 --dry-run", "DELETE /admin/users/user-0001/tokens",
		"revoked: 2 refresh tokens, 2 access tokens and 2 sessions ended", "invalid_grant (exit code 3)",
		"300 seconds -> 120 seconds", "exp - iat = 2m", "a new token verifies with it",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("the demo does not show %q:\n%s", want, r.Stdout)
		}
	}
	// Nothing is written outside the process: no configuration, no audit log.
	for _, dir := range []string{"XDG_CONFIG_HOME", "XDG_STATE_HOME"} {
		if entries, _ := os.ReadDir(e.Get(dir)); len(entries) != 0 {
			t.Errorf("the demo wrote to %s: %v", dir, entries)
		}
	}
}

func TestSandboxCommandServesTokensWithTheCredentialsItPrints(t *testing.T) {
	t.Parallel()
	e := newEnv(t).Set("IDPCTL_STORE", "memory")
	sb := start(t, e, "", "sandbox", "-o", "json", "--addr", "127.0.0.1:0")
	line := sb.waitStdout(regexp.MustCompile(`(?m)^(\{.*\})\s*$`), 30*time.Second)[1]
	var info struct {
		Issuer  string `json:"issuer"`
		Clients []struct {
			ID         string `json:"client_id"`
			Secret     string `json:"client_secret"`
			AuthMethod string `json:"token_endpoint_auth_method"`
		} `json:"clients"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("sandbox -o json: %v\n%s", err, line)
	}
	if !strings.HasPrefix(info.Issuer, "http://127.0.0.1:") {
		t.Fatalf("issuer %q is not on loopback", info.Issuer)
	}
	var id, secret string
	for _, c := range info.Clients {
		if c.Secret != "" {
			id, secret = c.ID, c.Secret
			e.Secret(secret)
		}
	}
	if secret == "" {
		t.Fatalf("the sandbox printed no confidential client: %s", line)
	}

	e.Set("IDPCTL_ISSUER", info.Issuer).Set("IDPCTL_CLIENT_ID", id).
		Set("IDPCTL_CLIENT_SECRET_FILE", e.WriteFile(t, "sandbox-secret", secret, true))
	tok := getToken(t, e)
	if r := mustRun(t, e, tok+"\n", "token", "inspect", "-"); !verifiedYes.MatchString(r.Stdout) {
		t.Errorf("the sandbox's token does not verify against its JWKS:\n%s", r.Stdout)
	}

	sb.Signal(syscall.SIGTERM)
	if r := sb.waitResult(10 * time.Second); r.Code != 0 {
		t.Errorf("the sandbox did not stop cleanly on SIGTERM\n%s", r)
	}
}
