package tokens

import (
	"context"
	"errors"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
)

// ForgetAccessToken drops a profile's cached access token after a server
// rejected it (a credential helper's "erase"), so the next request
// refreshes or runs the grant. A rejected value that is no longer the
// cached one (another process replaced it meanwhile) leaves the cache
// alone; an empty one always clears it. The refresh token stays: the
// server refused an access token, not the grant. It reports whether
// anything was forgotten.
func ForgetAccessToken(ctx context.Context, store credstore.Store, locker credstore.Locker, profile, rejected string) (bool, error) {
	// Under the refresh lock, so a token another process is saving
	// cannot be deleted between the comparison and the delete.
	unlock, err := locker.Lock(ctx, profile)
	if err != nil {
		return false, errs.Wrap(errs.KindStore, err)
	}
	defer unlock()
	var at credstore.AccessToken
	if err := credstore.LoadJSON(ctx, store, profile, credstore.KindAccessToken, &at); err != nil {
		if errors.Is(err, credstore.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if rejected != "" && at.AccessToken != rejected {
		return false, nil
	}
	if err := store.Delete(ctx, profile, credstore.KindAccessToken); err != nil && !errors.Is(err, credstore.ErrNotFound) {
		return false, err
	}
	return true, nil
}
