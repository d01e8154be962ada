package e2e

// Admin configuration mistakes refused when the profile is written, by the
// built binary: a secret on the command line, an unknown setting, an
// unknown provider.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider/registry"
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
		{[]string{"--provider", "keycloack", "--admin", "realm=corp"}, "choose one of " + strings.Join(registry.Names(), ", ")},
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

func TestAuditSurvivesATornLineAndFiltersByUserResultAndDate(t *testing.T) {
	t.Parallel()
	f, e := hydraBulkEnv(t)
	f.AddConsent("alice", "wiki")
	mustRun(t, e, "", "token", "revoke", "--user", "alice", "--yes")
	log := filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "audit.log")
	// A crash mid-append leaves a torn line and no newline.
	fh, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(`{"time":"2026-01-01T00:00:00Z","action":"revoke_us`)
	fh.Close()
	mustRun(t, e, "", "token", "revoke", "--user", "carol", "--yes")

	all := run(t, e, "", "audit", "-o", "json")
	if all.Code != 0 || len(jsonLines(t, all.Stdout)) != 2 || !strings.Contains(all.Stderr, "1 unreadable line") {
		t.Fatalf("want both entries and the torn line counted\n%s", all)
	}
	today := time.Now().Format("2006-01-02")
	r := run(t, e, "", "audit", "--user", "carol", "--result", "nothing to revoke", "--since", today, "-o", "text")
	if r.Code != 0 || !strings.Contains(r.Stdout, "carol") || strings.Contains(r.Stdout, "alice") {
		t.Fatalf("--user carol --result ... --since %s\n%s", today, r)
	}
	if !regexp.MustCompile(`\d\d:\d\d:\d\d (Z|[+-]\d\d:\d\d)`).MatchString(r.Stdout) {
		t.Fatalf("the time has no zone\n%s", r)
	}
	if r := run(t, e, "", "audit", "--since", time.Now().Add(24*time.Hour).Format("2006-01-02"), "-o", "json"); r.Code != 0 || r.Stdout != "" {
		t.Fatalf("--since tomorrow\n%s", r)
	}
}
