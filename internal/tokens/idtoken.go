package tokens

import (
	"context"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/oauth"
)

// VerifyIDToken checks the ID token of a login (OIDC Core §3.1.3.7).
// Without a JWKS the signature cannot be checked, but the claims still
// are: an ID token for another client, issuer or login, an expired one or
// an unsigned one (alg none) is refused all the same.
func (r *Grants) VerifyIDToken(ctx context.Context, c *oauth.Client, idToken, nonce string) error {
	opts := jose.VerifyOptions{Issuer: c.Metadata.Issuer, Audience: c.ClientID, Nonce: nonce, Now: r.Clock.Now}
	if c.Metadata.JWKSURI == "" {
		if _, err := jose.CheckUnverified(idToken, opts); err != nil {
			return errs.New(errs.KindRefused, "the ID token from the login does not hold: %w", err)
		}
		r.Prompt.Say("warning: the IdP publishes no JWKS, so the ID token's signature could not be verified; its iss, aud, exp and nonce were checked")
		return nil
	}
	_, err := jose.Verify(ctx, idToken, oauth.JWKS(c.HTTP, c.Metadata.JWKSURI), opts)
	if err != nil {
		return errs.New(errs.KindRefused, "the ID token from the login does not verify: %w", err)
	}
	return nil
}
