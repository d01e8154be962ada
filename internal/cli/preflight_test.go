package cli

import (
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/tokens"
)

func TestMissingSettingsAreUsageErrorsNamingThem(t *testing.T) {
	prof := func(mod func(*config.Resolved)) *config.Resolved {
		p := &config.Resolved{Name: "ci"}
		p.Issuer, p.ClientID = "https://idp.example", "ci"
		mod(p)
		return p
	}
	cases := []struct {
		name string
		p    *config.Resolved
		flow string
		say  string // "" when nothing is missing
	}{
		{"no issuer", prof(func(p *config.Resolved) { p.Issuer = "" }), tokens.FlowAuthCode, "no issuer"},
		{"no client id", prof(func(p *config.Resolved) { p.ClientID = "" }), tokens.FlowAuthCode, "no client id"},
		{"a token endpoint instead of an issuer", prof(func(p *config.Resolved) { p.Issuer = ""; p.Endpoints.Token = "https://idp.example/token" }), tokens.FlowAuthCode, ""},
		{"a secret method without a secret", prof(func(p *config.Resolved) { p.ClientAuthMethod = "client_secret_basic" }), tokens.FlowRefresh, "needs the client secret"},
		{"client credentials with nothing", prof(func(*config.Resolved) {}), tokens.FlowClientCredentials, "needs a client credential"},
		{"client credentials with a secret file", prof(func(p *config.Resolved) { p.ClientSecretFile = "/run/secret" }), tokens.FlowClientCredentials, ""},
		{"client credentials with a key", prof(func(p *config.Resolved) { p.PrivateKeyFile = "/k.pem" }), tokens.FlowClientCredentials, ""},
		{"client credentials with a CI assertion file", prof(func(p *config.Resolved) { p.ClientAssertionFile = "/var/run/ci/token" }), tokens.FlowClientCredentials, ""},
		{"client credentials with a CI assertion source", prof(func(p *config.Resolved) { p.ClientAssertionSource = "github-actions" }), tokens.FlowClientCredentials, ""},
		{"client credentials declared public", prof(func(p *config.Resolved) { p.ClientAuthMethod = "none" }), tokens.FlowClientCredentials, ""},
		{"a profile in the file may hold a stored secret", prof(func(p *config.Resolved) { p.InFile = true }), tokens.FlowClientCredentials, ""},
		{"a public login", prof(func(*config.Resolved) {}), tokens.FlowAuthCode, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckClientConfig(c.p)
			if err == nil {
				err = MissingCredential(c.p, c.flow)
			}
			if c.say == "" {
				if err != nil {
					t.Fatalf("nothing is missing, got %v", err)
				}
				return
			}
			if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), c.say) {
				t.Fatalf("got %v (kind %v), want a usage error saying %q", err, errs.KindOf(err), c.say)
			}
		})
	}
}
