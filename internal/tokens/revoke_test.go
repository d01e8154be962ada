package tokens

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

// recordingStore is a credential store that records deletions and can be
// told to refuse them.
type recordingStore struct {
	*credstore.Memory
	deleted   []credstore.Kind
	deleteErr error
}

func (s *recordingStore) Delete(ctx context.Context, profile string, kind credstore.Kind) error {
	if s.deleteErr != nil {
		return s.deleteErr
	}
	s.deleted = append(s.deleted, kind)
	return s.Memory.Delete(ctx, profile, kind)
}

// fakeRevoker answers RFC 7009 requests: an error per hint, and the order
// in which tokens were sent.
type fakeRevoker struct {
	fail map[string]error
	sent []string
}

func (f *fakeRevoker) Revoke(_ context.Context, token, hint string) error {
	f.sent = append(f.sent, hint+"="+token)
	return f.fail[hint]
}

func cachedStore(t *testing.T, withRefresh, withAccess bool) (*Service, *recordingStore) {
	t.Helper()
	store := &recordingStore{Memory: credstore.NewMemory()}
	s := &Service{Store: store, Profile: "p", Issuer: "https://idp", ClientID: "c"}
	ctx := context.Background()
	if withRefresh {
		if err := credstore.SaveJSON(ctx, store, "p", credstore.KindRefreshToken, credstore.RefreshToken{RefreshToken: "rt", Issuer: s.Issuer, ClientID: s.ClientID}); err != nil {
			t.Fatal(err)
		}
	}
	if withAccess {
		at := credstore.AccessToken{AccessToken: "at", ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Issuer: s.Issuer, ClientID: s.ClientID}
		if err := credstore.SaveJSON(ctx, store, "p", credstore.KindAccessToken, at); err != nil {
			t.Fatal(err)
		}
	}
	return s, store
}

func has(t *testing.T, store credstore.Store, kind credstore.Kind) bool {
	t.Helper()
	_, err := store.Get(context.Background(), "p", kind)
	if err != nil && !errors.Is(err, credstore.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestRevokingTheCacheSendsTheRefreshTokenFirstThenForgetsBoth(t *testing.T) {
	s, store := cachedStore(t, true, true)
	r := &fakeRevoker{}
	got, err := s.RevokeCached(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.sent, ",") != "refresh_token=rt,access_token=at" {
		t.Fatalf("sent %v, want the refresh token first (RFC 7009 §2.1)", r.sent)
	}
	want := []Outcome{{Kind: "refresh_token", Result: Revoked}, {Kind: "access_token", Result: Revoked}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("outcomes %+v, want %+v", got, want)
	}
	if has(t, store, credstore.KindRefreshToken) || has(t, store, credstore.KindAccessToken) {
		t.Fatal("revoked tokens are still cached")
	}
}

func TestATokenTheIdPDidNotRevokeIsKeptLocally(t *testing.T) {
	s, store := cachedStore(t, true, true)
	r := &fakeRevoker{fail: map[string]error{oauth.HintRefreshToken: errs.New(errs.KindNetwork, "connection refused")}}
	_, err := s.RevokeCached(context.Background(), r)
	if err == nil || !errs.Is(err, errs.KindNetwork) || !strings.Contains(err.Error(), "kept locally") {
		t.Fatalf("err %v, want the network error saying the token was kept", err)
	}
	if len(store.deleted) != 0 || !has(t, store, credstore.KindRefreshToken) || !has(t, store, credstore.KindAccessToken) {
		t.Fatalf("deleted %v after a failed revocation", store.deleted)
	}
	if len(r.sent) != 1 {
		t.Fatalf("sent %v: the access token must wait for the refresh token", r.sent)
	}
}

func TestAnAccessTokenTheIdPCannotRevokeIsForgottenWithItsExpiry(t *testing.T) {
	s, store := cachedStore(t, false, true)
	r := &fakeRevoker{fail: map[string]error{oauth.HintAccessToken: &oauth.Error{Code: "unsupported_token_type", Status: 400}}}
	got, err := s.RevokeCached(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != "access_token" || got[0].Result != NotRevocable || !strings.Contains(got[0].Note, "stays valid until it expires at ") {
		t.Fatalf("outcomes %+v", got)
	}
	if has(t, store, credstore.KindAccessToken) {
		t.Fatal("an access token the IdP cannot revoke is still cached")
	}
}

func TestAnAccessTokenRevocationFailureKeepsItButReportsTheRefreshToken(t *testing.T) {
	s, store := cachedStore(t, true, true)
	r := &fakeRevoker{fail: map[string]error{oauth.HintAccessToken: &oauth.Error{Code: "invalid_client", Status: 401}}}
	got, err := s.RevokeCached(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), "access token (kept locally)") {
		t.Fatalf("err %v", err)
	}
	if len(got) != 1 || got[0].Kind != "refresh_token" {
		t.Fatalf("outcomes %+v: the refresh token was revoked and must be reported", got)
	}
	if has(t, store, credstore.KindRefreshToken) || !has(t, store, credstore.KindAccessToken) {
		t.Fatal("want the refresh token forgotten and the access token kept")
	}
}

func TestANothingCachedProfileNeedsALogin(t *testing.T) {
	s, _ := cachedStore(t, false, false)
	r := &fakeRevoker{}
	_, err := s.RevokeCached(context.Background(), r)
	if !errs.Is(err, errs.KindLoginRequired) || len(r.sent) != 0 {
		t.Fatalf("err %v sent %v", err, r.sent)
	}
}

func TestARefreshTokenOfAnotherIdPIsNeitherSentNorForgotten(t *testing.T) {
	s, store := cachedStore(t, true, false)
	s.Issuer = "https://other-idp"
	r := &fakeRevoker{}
	_, err := s.RevokeCached(context.Background(), r)
	if !errs.Is(err, errs.KindLoginRequired) || len(r.sent) != 0 || len(store.deleted) != 0 {
		t.Fatalf("err %v sent %v deleted %v", err, r.sent, store.deleted)
	}
}

func TestAStoreThatCannotForgetFailsAfterTheRevocation(t *testing.T) {
	s, store := cachedStore(t, true, false)
	store.deleteErr = errs.New(errs.KindStore, "keychain locked")
	r := &fakeRevoker{}
	if _, err := s.RevokeCached(context.Background(), r); !errs.Is(err, errs.KindStore) {
		t.Fatalf("err %v, want the store error", err)
	}
}
