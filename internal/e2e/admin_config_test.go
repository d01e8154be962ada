package e2e

// Admin configuration mistakes refused when the profile is written, by the
// built binary: a secret on the command line, an unknown setting, an
// unknown provider.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProfileAddRefusesAdminSecretsAndUnknownSettingsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := filepath.Join(e.Get("XDG_CONFIG_HOME"), "idpctl", "config.yaml")
	name := e.Get("IDPCTL_PROFILE")
	const secret = "hunter2-not-for-argv"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--provider", "keycloak", "--admin", "password=" + secret}, "--admin-secret-stdin"},
		{[]string{"--provider", "okta", "--admin", "api_token=" + secret}, "--admin-secret-stdin"},
		{[]string{"--provider", "auth0", "--admin", "client_secret=" + secret}, "--admin-secret-stdin"},
		{[]string{"--provider", "keycloak", "--admin", "relm=corp"}, "valid settings are admin_realm, audience, auth, client_auth, client_id, realm, scope, token_url, url, user"},
		{[]string{"--provider", "keycloack", "--admin", "realm=corp"}, "choose one of auth0, cisco-ucm, generic, hydra, keycloak, okta, oracle"},
	} {
		r := run(t, e, "", append([]string{"profile", "add", name, "--issuer", "https://idp.example"}, tc.args...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) || strings.Contains(r.Stderr, secret) || r.Stdout != "" {
			t.Errorf("%v: want exit 2 with %q and the value not repeated\n%s", tc.args, tc.want, r)
		}
		if _, err := os.Stat(cfg); !os.IsNotExist(err) {
			t.Fatalf("%v: the configuration file was written", tc.args)
		}
	}
	// The same profile with valid settings is accepted.
	mustRun(t, e, "", "profile", "add", name, "--issuer", "https://kc.example/realms/corp", "--provider", "keycloak", "--admin", "realm=corp", "--admin", "client_id=offboarding")
	raw, err := os.ReadFile(cfg)
	if err != nil || strings.Contains(string(raw), secret) {
		t.Fatalf("config %q, %v", raw, err)
	}
}
