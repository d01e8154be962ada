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
