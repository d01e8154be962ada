package cli

import (
	"context"
	"errors"

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
	return res.Token, nil
}

// ForgetAccessToken drops the profile's cached access token after a
// server rejected it, so the next request refreshes or runs the grant. A
// rejected value that is no longer the cached one (another process
// replaced it meanwhile) leaves the cache alone; an empty one always
// clears it. It reports whether anything was forgotten.
func (f *Factory) ForgetAccessToken(ctx context.Context, p *config.Resolved, rejected string) (bool, error) {
	store, err := f.Store()
	if err != nil {
		return false, err
	}
	// Under the refresh lock, so a token another process is saving
	// cannot be deleted between the comparison and the delete.
	locker, err := f.Locker()
	if err != nil {
		return false, err
	}
	unlock, err := locker.Lock(ctx, p.Name)
	if err != nil {
		return false, errs.Wrap(errs.KindStore, err)
	}
	defer unlock()
	var at credstore.AccessToken
	if err := credstore.LoadJSON(ctx, store, p.Name, credstore.KindAccessToken, &at); err != nil {
		if errors.Is(err, credstore.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if rejected != "" && at.AccessToken != rejected {
		return false, nil
	}
	if err := store.Delete(ctx, p.Name, credstore.KindAccessToken); err != nil && !errors.Is(err, credstore.ErrNotFound) {
		return false, err
	}
	return true, nil
}
