package cli

import (
	"context"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/tokens"
)

// HelperToken returns an access token of profile p for a credential
// helper (git, docker): from the cache, else refreshed, else from the
// profile's grant, exactly as `token get` with no flags would.
func (f *Factory) HelperToken(ctx context.Context, p *config.Resolved) (*credstore.AccessToken, error) {
	g, err := tokens.PrepareGrant(p, tokens.GrantOptions{}, nil)
	if err != nil {
		return nil, err
	}
	svc, err := f.TokenService(ctx, p, g)
	if err != nil {
		return nil, err
	}
	res, err := svc.Get(ctx, tokens.Request{Options: g.Options, MinTTL: tokens.AutoMinTTL, NoGrant: g.Flow == tokens.FlowRefresh})
	if err != nil {
		return nil, err
	}
	if res.Token.DPoPJkt != "" {
		// git and docker send the password as HTTP Basic on every request,
		// with no proof: a DPoP-bound token would be refused by the server
		// (RFC 9449 §7.1), or accepted by one that ignores the binding.
		return nil, errs.New(errs.KindUsage, "profile %s gets DPoP-bound tokens, which git and docker cannot present (they send the token as a password, without a DPoP proof); use a profile without DPoP for the credential helper", p.Name)
	}
	return res.Token, nil
}

// ForgetAccessToken drops the profile's cached access token after a
// server rejected it; see tokens.ForgetAccessToken.
func (f *Factory) ForgetAccessToken(ctx context.Context, p *config.Resolved, rejected string) (bool, error) {
	store, err := f.Store()
	if err != nil {
		return false, err
	}
	locker, err := f.Locker()
	if err != nil {
		return false, err
	}
	return tokens.ForgetAccessToken(ctx, store, locker, p.Name, rejected)
}
