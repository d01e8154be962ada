package logout

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/iostreams"
)

// A refresh holding the profile's lock may be about to save a new refresh
// token: logout waits for it, so what it forgets stays forgotten.
func TestLogoutWaitsForARefreshHoldingTheLock(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios, func(k string) string {
		switch k {
		case "IDPCTL_ISSUER":
			return "https://idp.example"
		case "IDPCTL_CLIENT_ID":
			return "cli"
		case "IDPCTL_CONFIG":
			return t.TempDir() + "/config.yaml"
		}
		return ""
	}, "test")
	store := credstore.NewMemory()
	f.Store = func() (credstore.Store, error) { return store, nil }
	ctx := context.Background()
	p, err := f.Profile()
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := store.Lock(ctx, p.Name)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- logoutRun(ctx, &LogoutOptions{IO: ios, Factory: f, LocalOnly: true}) }()
	time.Sleep(100 * time.Millisecond)
	// The refresh saves its new token while logout waits.
	if err := credstore.SaveJSON(ctx, store, p.Name, credstore.KindRefreshToken, credstore.RefreshToken{RefreshToken: "rt-new"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("logout finished while the lock was held: %v", err)
	default:
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var rt credstore.RefreshToken
	if err := credstore.LoadJSON(ctx, store, p.Name, credstore.KindRefreshToken, &rt); !errors.Is(err, credstore.ErrNotFound) {
		t.Fatalf("the refresh token saved during logout survived: %+v, %v", rt, err)
	}
}
