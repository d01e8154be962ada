package tokens

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/credstore"
)

func seedAccess(t *testing.T, store credstore.Store, value string) {
	t.Helper()
	ctx := context.Background()
	if err := credstore.SaveJSON(ctx, store, "p", credstore.KindAccessToken, credstore.AccessToken{AccessToken: value, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := credstore.SaveJSON(ctx, store, "p", credstore.KindRefreshToken, credstore.RefreshToken{RefreshToken: "rt"}); err != nil {
		t.Fatal(err)
	}
}

func cachedAccess(t *testing.T, store credstore.Store) string {
	t.Helper()
	var at credstore.AccessToken
	err := credstore.LoadJSON(context.Background(), store, "p", credstore.KindAccessToken, &at)
	if errors.Is(err, credstore.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return at.AccessToken
}

func TestForgetAccessTokenDropsOnlyTheRejectedToken(t *testing.T) {
	ctx := context.Background()
	store := credstore.NewMemory()
	seedAccess(t, store, "at-new")

	// Another process already replaced the token the server rejected.
	forgot, err := ForgetAccessToken(ctx, store, store, "p", "at-old")
	if err != nil || forgot || cachedAccess(t, store) != "at-new" {
		t.Fatalf("a stale rejection: forgot %v, err %v, cached %q", forgot, err, cachedAccess(t, store))
	}
	forgot, err = ForgetAccessToken(ctx, store, store, "p", "at-new")
	if err != nil || !forgot || cachedAccess(t, store) != "" {
		t.Fatalf("the rejected token: forgot %v, err %v, cached %q", forgot, err, cachedAccess(t, store))
	}
	// The grant was not refused: the refresh token stays.
	var rt credstore.RefreshToken
	if err := credstore.LoadJSON(ctx, store, "p", credstore.KindRefreshToken, &rt); err != nil || rt.RefreshToken != "rt" {
		t.Fatalf("refresh token: %+v, %v", rt, err)
	}
	forgot, err = ForgetAccessToken(ctx, store, store, "p", "at-new")
	if err != nil || forgot {
		t.Fatalf("nothing cached: forgot %v, err %v", forgot, err)
	}
	seedAccess(t, store, "whatever")
	if forgot, err := ForgetAccessToken(ctx, store, store, "p", ""); err != nil || !forgot || cachedAccess(t, store) != "" {
		t.Fatalf("an empty rejection clears: forgot %v, err %v", forgot, err)
	}
}

type refusingLocker struct{}

func (refusingLocker) Lock(context.Context, string) (func(), error) {
	return nil, errors.New("lock file is not writable")
}

func TestForgetAccessTokenTakesTheLockFirst(t *testing.T) {
	store := credstore.NewMemory()
	seedAccess(t, store, "at")
	if _, err := ForgetAccessToken(context.Background(), store, refusingLocker{}, "p", "at"); err == nil {
		t.Fatal("forgot without the lock")
	}
	if cachedAccess(t, store) != "at" {
		t.Fatal("the token was deleted without the lock")
	}
}
