package generic

import (
	"context"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

func TestEveryCapabilityAnswersUnsupportedWithWhatToDoInstead(t *testing.T) {
	p, err := New(&provider.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := p.(provider.UserTokenRevoker)
	e := p.(provider.AppExpiryManager)
	k := p.(provider.KeyRotator)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"plan revoke", second(r.PlanRevokeUser(provider.RevokeUserRequest{User: "u"})), "idpctl token revoke --token-file FILE"},
		{"revoke", second(r.RevokeUser(ctx, provider.RevokeUserRequest{User: "u"})), "RFC 7009"},
		{"list apps", second(e.ListApps(ctx)), "admin console"},
		{"get expiry", second(e.GetExpiry(ctx, "a")), "lifetimes"},
		{"plan expiry", second(e.PlanExpiry(ctx, "a", provider.LifetimeChange{})), "lifetimes"},
		{"apply expiry", second(e.ApplyExpiry(ctx, &provider.ExpiryPlan{})), "lifetimes"},
		{"list keys", second(k.ListKeys(ctx)), "JWKS"},
		{"plan rotate", second(k.PlanRotate(ctx, provider.KeySigning, provider.RotateOptions{})), "rotation"},
		{"rotate", second(k.Rotate(ctx, &provider.RotatePlan{})), "rotation"},
	}
	for _, tc := range cases {
		if errs.KindOf(tc.err) != errs.KindUnsupported {
			t.Errorf("%s: kind %v, want unsupported (%v)", tc.name, errs.KindOf(tc.err), tc.err)
		}
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) || !strings.HasPrefix(tc.err.Error(), "generic: ") {
			t.Errorf("%s: %v, want a sentence naming %q", tc.name, tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }
