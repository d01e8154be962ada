package tokens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

type fakeRefresher struct {
	calls   atomic.Int32
	fail    error
	rotate  bool
	seen    sync.Map // refresh tokens sent
	replays atomic.Int32
}

func (f *fakeRefresher) Refresh(_ context.Context, rt string, _ oauth.TokenOptions) (*oauth.Token, error) {
	n := f.calls.Add(1)
	if _, dup := f.seen.LoadOrStore(rt, true); dup {
		f.replays.Add(1)
	}
	if f.fail != nil {
		return nil, f.fail
	}
	time.Sleep(5 * time.Millisecond)
	t := &oauth.Token{AccessToken: fmt.Sprintf("at-%d", n), TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour)}
	if f.rotate {
		t.RefreshToken = fmt.Sprintf("rt-%d", n)
	}
	return t, nil
}

func newService(t *testing.T, r *fakeRefresher) (*Service, *credstore.Memory) {
	t.Helper()
	store := credstore.NewMemory()
	return &Service{
		Store: store, Locker: store, Profile: "p", Issuer: "https://idp", ClientID: "c",
		Client: func(context.Context) (Refresher, error) { return r, nil },
	}, store
}

func seed(t *testing.T, s *Service, store *credstore.Memory, atExpires time.Time, key string) {
	t.Helper()
	ctx := context.Background()
	if err := credstore.SaveJSON(ctx, store, "p", credstore.KindAccessToken, credstore.AccessToken{AccessToken: "cached", ExpiresAt: atExpires, Issuer: s.Issuer, ClientID: s.ClientID, Request: key}); err != nil {
		t.Fatal(err)
	}
	if err := credstore.SaveJSON(ctx, store, "p", credstore.KindRefreshToken, credstore.RefreshToken{RefreshToken: "rt-0", Issuer: s.Issuer, ClientID: s.ClientID}); err != nil {
		t.Fatal(err)
	}
}

func TestAFreshCachedTokenIsReturnedWithoutTheNetwork(t *testing.T) {
	r := &fakeRefresher{}
	s, store := newService(t, r)
	s.Client = func(context.Context) (Refresher, error) {
		t.Fatal("the client must not be built on a cache hit")
		return nil, nil
	}
	key := RequestKey(oauth.TokenOptions{})
	seed(t, s, store, time.Now().Add(time.Hour), key)
	res, err := s.Get(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Source != FromCache || res.Token.AccessToken != "cached" {
		t.Fatalf("res %+v err %v", res, err)
	}
}

func TestATokenWithLessThanMinTTLLeftIsRefreshedAndTheRotationStored(t *testing.T) {
	r := &fakeRefresher{rotate: true}
	s, store := newService(t, r)
	key := RequestKey(oauth.TokenOptions{})
	seed(t, s, store, time.Now().Add(30*time.Second), key)
	res, err := s.Get(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Source != FromRefresh || !res.Rotated || res.Token.AccessToken != "at-1" {
		t.Fatalf("res %+v err %v", res, err)
	}
	rt, _ := s.LoadRefresh(context.Background())
	if rt.RefreshToken != "rt-1" {
		t.Fatalf("stored refresh token %q, want the rotated one", rt.RefreshToken)
	}
}

func TestParallelCallersShareOneRefresh(t *testing.T) {
	r := &fakeRefresher{rotate: true}
	s, store := newService(t, r)
	key := RequestKey(oauth.TokenOptions{})
	seed(t, s, store, time.Now().Add(-time.Minute), key)
	var wg sync.WaitGroup
	errsSeen := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Get(context.Background(), Request{MinTTL: time.Minute}); err != nil {
				errsSeen <- err
			}
		}()
	}
	wg.Wait()
	close(errsSeen)
	for err := range errsSeen {
		t.Error(err)
	}
	if r.calls.Load() != 1 || r.replays.Load() != 0 {
		t.Fatalf("refresh calls %d, replays %d; want exactly one refresh", r.calls.Load(), r.replays.Load())
	}
}

func TestInvalidGrantClearsTheDeadRefreshTokenAndAsksForLogin(t *testing.T) {
	r := &fakeRefresher{fail: errs.Wrap(errs.KindLoginRequired, &oauth.Error{Code: "invalid_grant", Endpoint: "the token endpoint"})}
	s, store := newService(t, r)
	s.LoginHint = "run 'idpctl login'"
	seed(t, s, store, time.Now().Add(-time.Minute), RequestKey(oauth.TokenOptions{}))
	_, err := s.Get(context.Background(), Request{MinTTL: time.Minute})
	if !errs.Is(err, errs.KindLoginRequired) {
		t.Fatalf("err = %v", err)
	}
	if rt, _ := s.LoadRefresh(context.Background()); rt != nil {
		t.Fatal("the dead refresh token should be gone")
	}
}

func TestAClientCredentialsProfileRunsItsGrantWhenNothingIsCached(t *testing.T) {
	r := &fakeRefresher{}
	s, _ := newService(t, r)
	var grants atomic.Int32
	s.Grant = func(context.Context) (*oauth.Token, error) {
		grants.Add(1)
		return &oauth.Token{AccessToken: "cc", TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour)}, nil
	}
	req := Request{MinTTL: time.Minute}
	for i := 0; i < 3; i++ {
		res, err := s.Get(context.Background(), req)
		if err != nil || res.Token.AccessToken != "cc" {
			t.Fatalf("res %+v err %v", res, err)
		}
	}
	if grants.Load() != 1 {
		t.Fatalf("grants = %d, want 1 then cache hits", grants.Load())
	}
	// A request for other scopes is not served the cached token.
	if _, err := s.Get(context.Background(), Request{Options: oauth.TokenOptions{Scopes: []string{"x"}}, MinTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if grants.Load() != 2 {
		t.Fatalf("grants = %d, want a second grant for other scopes", grants.Load())
	}
}

func TestATokenFromAnotherIssuerIsNotReused(t *testing.T) {
	r := &fakeRefresher{}
	s, store := newService(t, r)
	seed(t, s, store, time.Now().Add(time.Hour), RequestKey(oauth.TokenOptions{}))
	s.Issuer = "https://other-idp"
	_, err := s.Get(context.Background(), Request{MinTTL: time.Minute})
	if !errs.Is(err, errs.KindLoginRequired) {
		t.Fatalf("err = %v", err)
	}
}

func TestRefreshDueAtAShareOfTheRefreshTokensLife(t *testing.T) {
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rt := &credstore.RefreshToken{IssuedAt: issued, ExpiresAt: issued.Add(60 * 24 * time.Hour)}
	if due, known := RefreshDue(rt, issued.Add(29*24*time.Hour), 0.5); due || !known {
		t.Fatal("29 of 60 days is not yet due")
	}
	if due, _ := RefreshDue(rt, issued.Add(30*24*time.Hour), 0.5); !due {
		t.Fatal("30 of 60 days is due at 50%")
	}
	if _, known := RefreshDue(&credstore.RefreshToken{IssuedAt: issued}, issued, 0.5); known {
		t.Fatal("without an expiry the share is unknown")
	}
}

func TestATokenFromALoginWithScopesServesALaterPlainGet(t *testing.T) {
	r := &fakeRefresher{}
	s, _ := newService(t, r)
	s.Client = func(context.Context) (Refresher, error) { t.Fatal("no network expected"); return nil, nil }
	s.Grant = func(context.Context) (*oauth.Token, error) {
		return &oauth.Token{AccessToken: "user", TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour), Scope: "openid api:read"}, nil
	}
	if _, err := s.Obtain(context.Background(), Request{Options: oauth.TokenOptions{Scopes: []string{"openid", "api:read"}}}); err != nil {
		t.Fatal(err)
	}
	s.Grant = nil
	for _, scopes := range [][]string{nil, {"api:read"}} {
		res, err := s.Get(context.Background(), Request{Options: oauth.TokenOptions{Scopes: scopes}, MinTTL: AutoMinTTL})
		if err != nil || res.Source != FromCache || res.Token.AccessToken != "user" {
			t.Fatalf("scopes %v: res %+v err %v", scopes, res, err)
		}
	}
	// A scope the token was not granted is not served from the cache.
	if _, err := s.Get(context.Background(), Request{Options: oauth.TokenOptions{Scopes: []string{"admin"}}, MinTTL: AutoMinTTL}); !errs.Is(err, errs.KindLoginRequired) {
		t.Fatalf("err = %v", err)
	}
	// Nor a token for another API.
	if _, err := s.Get(context.Background(), Request{Options: oauth.TokenOptions{Audience: "https://other"}, MinTTL: AutoMinTTL}); !errs.Is(err, errs.KindLoginRequired) {
		t.Fatalf("err = %v", err)
	}
}

func TestTheDefaultMinTTLStillCachesOneMinuteTokens(t *testing.T) {
	s, store := newService(t, &fakeRefresher{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	at := credstore.AccessToken{AccessToken: "short", ExpiresAt: now.Add(60 * time.Second), ObtainedAt: now, Issuer: s.Issuer, ClientID: s.ClientID, Request: RequestKey(oauth.TokenOptions{})}
	if err := credstore.SaveJSON(context.Background(), store, "p", credstore.KindAccessToken, at); err != nil {
		t.Fatal(err)
	}
	now = now.Add(20 * time.Second) // 40s left of a 60s token: more than half
	if res, err := s.Get(context.Background(), Request{MinTTL: AutoMinTTL}); err != nil || res.Source != FromCache {
		t.Fatalf("res %+v err %v", res, err)
	}
	now = now.Add(15 * time.Second) // 25s left: less than half
	if _, err := s.Get(context.Background(), Request{MinTTL: AutoMinTTL}); !errs.Is(err, errs.KindLoginRequired) {
		t.Fatalf("a token with less than half its life left must not be served: %v", err)
	}
	// An hour-long token must keep the 60s floor, not half an hour.
	at.ExpiresAt, at.ObtainedAt = now.Add(90*time.Second), now.Add(-time.Hour)
	if err := credstore.SaveJSON(context.Background(), store, "p", credstore.KindAccessToken, at); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Get(context.Background(), Request{MinTTL: AutoMinTTL}); err != nil || res.Source != FromCache {
		t.Fatalf("90s left of a long token is more than the 60s floor: %+v %v", res, err)
	}
}

type readOnlyStore struct{ *credstore.Memory }

func (readOnlyStore) Set(context.Context, string, credstore.Kind, []byte) error {
	return errs.New(errs.KindStore, "read-only file system")
}

func TestARefreshTokenIsNotSpentWhenTheStoreCannotSaveItsSuccessor(t *testing.T) {
	r := &fakeRefresher{rotate: true}
	s, store := newService(t, r)
	seed(t, s, store, time.Now().Add(-time.Minute), RequestKey(oauth.TokenOptions{}))
	s.Store = readOnlyStore{store}
	_, err := s.Get(context.Background(), Request{MinTTL: time.Minute})
	if !errs.Is(err, errs.KindStore) || r.calls.Load() != 0 {
		t.Fatalf("err %v, refresh calls %d: the token must not be sent", err, r.calls.Load())
	}
}

func TestACachedTokenOutsideRFC6750sCharactersIsNotReturned(t *testing.T) {
	r := &fakeRefresher{}
	s, store := newService(t, r)
	key := RequestKey(oauth.TokenOptions{})
	seed(t, s, store, time.Now().Add(time.Hour), key)
	if err := credstore.SaveJSON(context.Background(), store, "p", credstore.KindAccessToken, credstore.AccessToken{AccessToken: "cached\r\nX-Injected: 1", ExpiresAt: time.Now().Add(time.Hour), Issuer: s.Issuer, ClientID: s.ClientID, Request: key}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Get(context.Background(), Request{MinTTL: time.Minute})
	if err != nil || res.Source != FromRefresh || res.Token.AccessToken != "at-1" {
		t.Fatalf("a malformed cached token must be replaced by a refresh: res %+v err %v", res, err)
	}
}

func TestANewTokenShorterThanAnExplicitMinTTLIsRefusedButKept(t *testing.T) {
	s, store := newService(t, &fakeRefresher{})
	s.Grant = func(context.Context) (*oauth.Token, error) {
		return &oauth.Token{AccessToken: "short", TokenType: "Bearer", ExpiresAt: time.Now().Add(5 * time.Minute)}, nil
	}
	if _, err := s.Get(context.Background(), Request{MinTTL: 10 * time.Minute}); !errors.Is(err, ErrShortLived) {
		t.Fatalf("err = %v, want ErrShortLived", err)
	}
	var at credstore.AccessToken
	if err := credstore.LoadJSON(context.Background(), store, "p", credstore.KindAccessToken, &at); err != nil || at.AccessToken != "short" {
		t.Fatalf("the short-lived token was not kept: %+v %v", at, err)
	}
	for _, ttl := range []time.Duration{AutoMinTTL, 4 * time.Minute} {
		if res, err := s.Get(context.Background(), Request{MinTTL: ttl, NoCache: true}); err != nil || res.Token.AccessToken != "short" {
			t.Fatalf("min TTL %v: res %+v err %v", ttl, res, err)
		}
	}
}

// A token the IdP granted fewer scopes than asked holds only those: it is
// no token for a scope that was asked for and refused.
func TestACachedTokenCoversOnlyTheScopesTheIdPGranted(t *testing.T) {
	at := &credstore.AccessToken{Scope: "api:read", RequestedScope: "api:read api:write"}
	if coversScopes(at, []string{"api:write"}) {
		t.Fatal("a refused scope was taken as granted")
	}
	if !coversScopes(at, []string{"api:read"}) {
		t.Fatal("a granted scope was not")
	}
	// An IdP that names no scope granted the request as made.
	if !coversScopes(&credstore.AccessToken{RequestedScope: "api:read api:write"}, []string{"api:write"}) {
		t.Fatal("the request was not taken as granted when the IdP named no scope")
	}
}

func TestOfflineAccessNeedNotBeInTheAccessTokensScope(t *testing.T) {
	at := &credstore.AccessToken{Scope: "openid", RequestedScope: "openid offline_access"}
	if !coversScopes(at, []string{"openid", "offline_access"}) {
		t.Fatal("a token granted openid, with offline_access asked for its refresh token, was not served")
	}
}
