package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/jose"
)

// WaitForKID fetches a JWKS until it lists kid or timeout passes, and
// returns how many fetches it took. A failed fetch is tried again: the
// endpoint may be restarting with the new key. The timeout is a
// KindNetwork error naming the last problem seen.
func WaitForKID(ctx context.Context, fetch func(context.Context) ([]byte, error), kid string, timeout, interval time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) (int, error) {
	deadline := now().Add(timeout)
	var last string
	for polls := 1; ; polls++ {
		body, err := fetch(ctx)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return polls, errs.Wrap(errs.KindInterrupted, fmt.Errorf("waiting for the new key: %w", ctx.Err()))
			}
			last = err.Error()
		case hasKID(body, kid):
			return polls, nil
		default:
			last = "the JWKS does not list it yet"
		}
		left := deadline.Sub(now())
		if left <= 0 {
			return polls, errs.New(errs.KindNetwork, "the new key %s did not appear in the JWKS within %s (%s; last: %s); relying parties cannot verify tokens signed with it until it does: check the IdP and 'idpctl key list'", kid, durations.Format(timeout), plural(polls, "fetch", "fetches"), last)
		}
		if err := sleep(ctx, min(interval, left)); err != nil {
			return polls, errs.Wrap(errs.KindInterrupted, fmt.Errorf("waiting for the new key: %w", err))
		}
	}
}

// hasKID reports whether a JWK Set lists kid. Keys that go-jose cannot
// load (a symmetric encryption key, an unknown type) still count as
// published, so their ids are read from the raw members too.
func hasKID(body []byte, kid string) bool {
	set, _, err := jose.ParseJWKS(body)
	if err != nil {
		return false
	}
	for _, k := range set.Keys {
		if k.KeyID == kid {
			return true
		}
	}
	var raw struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if json.Unmarshal(body, &raw) == nil {
		for _, k := range raw.Keys {
			if k.KID == kid {
				return true
			}
		}
	}
	return false
}

// plural counts n of a thing: "1 fetch", "3 fetches".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
