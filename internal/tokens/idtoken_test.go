package tokens

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

// idToken builds a JWS-shaped token; its signature is never checked here,
// since the IdP of these tests publishes no JWKS.
func idToken(alg string, claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": alg})
	c, _ := json.Marshal(claims)
	sig := "c2lnbmF0dXJl"
	if alg == "none" {
		sig = ""
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "." + sig
}

func TestWithoutAJWKSTheIDTokensClaimsAreStillChecked(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good := func(over map[string]any) map[string]any {
		c := map[string]any{"iss": "https://idp.example", "aud": "cli", "sub": "u", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": "n-1"}
		for k, v := range over {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	cases := []struct {
		name, token, nonce string
		refuse             string // "" when accepted
	}{
		{"the right claims", idToken("RS256", good(nil)), "n-1", ""},
		{"no nonce sent, none demanded", idToken("RS256", good(map[string]any{"nonce": nil})), "", ""},
		{"alg none", idToken("none", good(nil)), "n-1", "alg none"},
		{"another audience", idToken("RS256", good(map[string]any{"aud": "other"})), "n-1", "audience"},
		{"another issuer", idToken("RS256", good(map[string]any{"iss": "https://evil.example"})), "n-1", "issuer"},
		{"expired", idToken("RS256", good(map[string]any{"exp": now.Add(-time.Hour).Unix()})), "n-1", "expired"},
		{"another nonce", idToken("RS256", good(map[string]any{"nonce": "n-2"})), "n-1", "nonce"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, pr, _, cl := newGrants(t, false)
			cl.now = now
			client := &oauth.Client{Metadata: &oauth.Metadata{Issuer: "https://idp.example"}, ClientID: "cli"}
			err := r.VerifyIDToken(context.Background(), client, c.token, c.nonce)
			if c.refuse == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !strings.Contains(pr.said.String(), "signature could not be verified") {
					t.Errorf("no warning that the signature was not verified: %q", pr.said.String())
				}
				return
			}
			if !errs.Is(err, errs.KindRefused) || !strings.Contains(err.Error(), c.refuse) {
				t.Fatalf("err = %v, want a refusal about %s", err, c.refuse)
			}
		})
	}
}
