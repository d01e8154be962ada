package list

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
)

type keys struct{ provider.KeyRotator }

func (keys) Name() string { return "fake" }
func (keys) ListKeys(context.Context) ([]provider.Key, error) {
	return []provider.Key{
		{KID: "k2", Algorithm: "RS256", Use: "sig", Status: "active", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))},
		{KID: "k1", Status: "expired"},
	}, nil
}

func TestKeysAreListedWithUTCTimes(t *testing.T) {
	for _, tc := range []struct{ output, want string }{
		{"table", "k2   RS256  sig  active   2026-01-02T02:04:05Z"},
		{"json", `"created": "2026-01-02T02:04:05Z"`},
	} {
		ios, _, out, _ := iostreams.Test()
		err := listRun(context.Background(), &ListOptions{IO: ios, Output: tc.output,
			Provider: func(context.Context) (provider.Provider, *config.Resolved, error) {
				return keys{}, &config.Resolved{}, nil
			}})
		if err != nil || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%s: %q, %v", tc.output, out.String(), err)
		}
	}
}

type keySets struct{ provider.KeyRotator }

func (keySets) Name() string { return "hydra" }
func (keySets) ListKeys(context.Context) ([]provider.Key, error) {
	return []provider.Key{{KID: "k3", Algorithm: "RS256", Use: "sig", Status: "active", KeySet: "hydra.openid.id-token"}}, nil
}

// The column holding Hydra's JWK set (Keycloak's key provider component)
// is the key set, not a "PROVIDER": idpctl calls the IdP's adapter that.
func TestTheKeySetColumnIsNotCalledProvider(t *testing.T) {
	run := func(output string) string {
		ios, _, out, _ := iostreams.Test()
		err := listRun(context.Background(), &ListOptions{IO: ios, Output: output,
			Provider: func(context.Context) (provider.Provider, *config.Resolved, error) {
				return keySets{}, &config.Resolved{}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	table := run("table")
	header := strings.Fields(strings.SplitN(table, "\n", 2)[0])
	if strings.Contains(table, "PROVIDER") || strings.Join(header[len(header)-2:], " ") != "KEY SET" {
		t.Errorf("table header %q, want the last column KEY SET:\n%s", header, table)
	}
	if !strings.Contains(table, "hydra.openid.id-token") {
		t.Errorf("the key set is missing:\n%s", table)
	}
	js := run("json")
	for _, want := range []string{`"key_set": "hydra.openid.id-token"`, `"provider_id": "hydra.openid.id-token"`} {
		if !strings.Contains(js, want) {
			t.Errorf("json lacks %s:\n%s", want, js)
		}
	}
}
