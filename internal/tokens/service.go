// Package tokens holds the token use cases: return a cached access token,
// refresh it, or run the profile's grant, keeping the credential store
// consistent when several processes do this at once.
package tokens

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

// Refresher is the part of the OAuth client the refresh path needs.
type Refresher interface {
	Refresh(ctx context.Context, refreshToken string, o oauth.TokenOptions) (*oauth.Token, error)
}

// Source says where a returned token came from.
type Source string

const (
	FromCache   Source = "cache"
	FromRefresh Source = "refresh"
	FromGrant   Source = "grant"
)

// Service runs the use cases for one profile.
type Service struct {
	Store   credstore.Store
	Locker  credstore.Locker
	Now     func() time.Time
	Profile string
	// Issuer and ClientID tie cached tokens to their origin: a profile
	// pointed at another IdP or client must not reuse them.
	Issuer, ClientID string
	// Client builds the OAuth client only when the network is needed, so a
	// cache hit costs no discovery.
	Client func(ctx context.Context) (Refresher, error)
	// Grant obtains new tokens with the profile's grant; nil when the
	// profile's grant needs a person and none can be asked.
	Grant func(ctx context.Context) (*oauth.Token, error)
	// GrantNeedsPerson explains, when Grant is nil, how to log in.
	LoginHint string
}

// Request is what the caller wants.
type Request struct {
	Flow     string
	Options  oauth.TokenOptions
	MinTTL   time.Duration
	NoCache  bool
	Refresh  bool // force a refresh_token grant
	NoGrant  bool // never run the grant, only cache or refresh
	GrantKey string
}

// Result is the token and where it came from.
type Result struct {
	Token   *credstore.AccessToken
	Source  Source
	Rotated bool // a refresh returned a new refresh token
	Refresh *credstore.RefreshToken
}

// RequestKey names a request canonically for the cache.
func RequestKey(flow string, o oauth.TokenOptions) string {
	scopes := append([]string(nil), o.Scopes...)
	sort.Strings(scopes)
	res := append([]string(nil), o.Resources...)
	sort.Strings(res)
	return strings.Join([]string{flow, strings.Join(scopes, " "), o.Audience, strings.Join(res, " ")}, "|")
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// usable tells whether a cached access token can be returned.
func (s *Service) usable(at *credstore.AccessToken, key string, minTTL time.Duration) bool {
	if at == nil || at.AccessToken == "" || at.Issuer != s.Issuer || at.ClientID != s.ClientID || at.Request != key {
		return false
	}
	if at.ExpiresAt.IsZero() {
		// Lifetime unknown: never assume it is still good.
		return false
	}
	return at.ExpiresAt.Sub(s.now()) >= minTTL
}

func (s *Service) loadAccess(ctx context.Context) (*credstore.AccessToken, error) {
	var at credstore.AccessToken
	err := credstore.LoadJSON(ctx, s.Store, s.Profile, credstore.KindAccessToken, &at)
	if errors.Is(err, credstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &at, nil
}

// LoadRefresh returns the cached refresh token of this profile's IdP and
// client, or nil.
func (s *Service) LoadRefresh(ctx context.Context) (*credstore.RefreshToken, error) {
	var rt credstore.RefreshToken
	err := credstore.LoadJSON(ctx, s.Store, s.Profile, credstore.KindRefreshToken, &rt)
	if errors.Is(err, credstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rt.RefreshToken == "" || rt.Issuer != s.Issuer || rt.ClientID != s.ClientID {
		return nil, nil
	}
	return &rt, nil
}

// Get returns an access token with at least MinTTL left: from the cache,
// else by refreshing, else by running the grant.
func (s *Service) Get(ctx context.Context, r Request) (*Result, error) {
	key := RequestKey(r.Flow, r.Options)
	if r.GrantKey != "" {
		key = r.GrantKey
	}
	if !r.NoCache && !r.Refresh {
		at, err := s.loadAccess(ctx)
		if err != nil {
			return nil, err
		}
		if s.usable(at, key, r.MinTTL) {
			return &Result{Token: at, Source: FromCache}, nil
		}
	}
	unlock, err := s.Locker.Lock(ctx, s.Profile)
	if err != nil {
		return nil, errs.Wrap(errs.KindStore, fmt.Errorf("waiting for the refresh lock of profile %q: %w", s.Profile, err))
	}
	defer unlock()

	// Another process may have refreshed while we waited for the lock:
	// re-read, and skip the refresh if it did (its token is new enough).
	if !r.NoCache && !r.Refresh {
		at, err := s.loadAccess(ctx)
		if err != nil {
			return nil, err
		}
		if s.usable(at, key, r.MinTTL) {
			return &Result{Token: at, Source: FromCache}, nil
		}
	}
	rt, err := s.LoadRefresh(ctx)
	if err != nil {
		return nil, err
	}
	if rt != nil {
		res, err := s.refreshLocked(ctx, rt, r, key)
		if err == nil {
			return res, nil
		}
		if !errs.Is(err, errs.KindLoginRequired) || r.Refresh {
			return nil, err
		}
		// The refresh token is dead; a non-interactive grant may still work.
		if s.Grant == nil || r.NoGrant {
			return nil, err
		}
	} else if r.Refresh {
		return nil, errs.New(errs.KindLoginRequired, "profile %q has no refresh token cached%s", s.Profile, hint(s.LoginHint))
	}
	if r.NoGrant || s.Grant == nil {
		return nil, errs.New(errs.KindLoginRequired, "no valid token cached for profile %q%s", s.Profile, hint(s.LoginHint))
	}
	tok, err := s.Grant(ctx)
	if err != nil {
		return nil, err
	}
	at, newRT, err := s.save(ctx, tok, nil, key)
	if err != nil {
		return nil, err
	}
	return &Result{Token: at, Source: FromGrant, Refresh: newRT}, nil
}

func hint(h string) string {
	if h == "" {
		return ""
	}
	return ": " + h
}

// refreshLocked runs the refresh_token grant; the caller holds the lock, so
// the refresh token it read is still the stored one. It is sent once: a
// failed request is not retried, since replaying a rotated refresh token
// revokes the whole grant at many IdPs (RFC 9700 §4.14.2).
func (s *Service) refreshLocked(ctx context.Context, rt *credstore.RefreshToken, r Request, key string) (*Result, error) {
	client, err := s.Client(ctx)
	if err != nil {
		return nil, err
	}
	opts := r.Options
	tok, err := client.Refresh(ctx, rt.RefreshToken, opts)
	if err != nil {
		if errs.Is(err, errs.KindLoginRequired) {
			// Clear only the refresh token that failed; one written by
			// another process cannot exist while we hold the lock, but
			// check anyway so a lock bypass cannot lose a good token.
			if cur, _ := s.LoadRefresh(ctx); cur != nil && cur.RefreshToken == rt.RefreshToken {
				_ = s.Store.Delete(ctx, s.Profile, credstore.KindRefreshToken)
			}
		}
		return nil, err
	}
	at, newRT, err := s.save(ctx, tok, rt, key)
	if err != nil {
		return nil, err
	}
	rotated := tok.RefreshToken != "" && tok.RefreshToken != rt.RefreshToken
	return &Result{Token: at, Source: FromRefresh, Rotated: rotated, Refresh: newRT}, nil
}

// save stores the new refresh token first, then the access token: if the
// process dies between the two, the next run still holds a usable
// refresh token rather than a consumed one.
func (s *Service) save(ctx context.Context, tok *oauth.Token, old *credstore.RefreshToken, key string) (*credstore.AccessToken, *credstore.RefreshToken, error) {
	now := s.now().UTC()
	var rt *credstore.RefreshToken
	switch {
	case tok.RefreshToken != "" && (old == nil || tok.RefreshToken != old.RefreshToken):
		rt = &credstore.RefreshToken{
			RefreshToken: tok.RefreshToken, IssuedAt: now, ExpiresAt: tok.RefreshExpiresAt.UTC(),
			Scope: tok.Scope, Issuer: s.Issuer, ClientID: s.ClientID,
		}
		if err := credstore.SaveJSON(ctx, s.Store, s.Profile, credstore.KindRefreshToken, rt); err != nil {
			return nil, nil, fmt.Errorf("saving the new refresh token: %w", err)
		}
	case old != nil:
		rt = old
		if !tok.RefreshExpiresAt.IsZero() {
			// Some IdPs extend a non-rotated refresh token's life on use.
			rt.ExpiresAt = tok.RefreshExpiresAt.UTC()
			if err := credstore.SaveJSON(ctx, s.Store, s.Profile, credstore.KindRefreshToken, rt); err != nil {
				return nil, nil, fmt.Errorf("saving the refresh token: %w", err)
			}
		}
	}
	at := &credstore.AccessToken{
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpiresAt: tok.ExpiresAt.UTC(),
		Scope: tok.Scope, IDToken: tok.IDToken, ObtainedAt: now, Issuer: s.Issuer, ClientID: s.ClientID, Request: key,
	}
	if err := credstore.SaveJSON(ctx, s.Store, s.Profile, credstore.KindAccessToken, at); err != nil {
		return nil, nil, fmt.Errorf("saving the access token: %w", err)
	}
	return at, rt, nil
}

// RefreshDue reports whether a refresh token has used at least share of its
// life (Cisco UCM renews Webex refresh tokens at 50%). known is false when
// the IdP never said how long the token lives.
func RefreshDue(rt *credstore.RefreshToken, now time.Time, share float64) (due, known bool) {
	if rt == nil || rt.ExpiresAt.IsZero() || rt.IssuedAt.IsZero() || !rt.ExpiresAt.After(rt.IssuedAt) {
		return false, false
	}
	life := rt.ExpiresAt.Sub(rt.IssuedAt)
	used := now.Sub(rt.IssuedAt)
	return float64(used) >= share*float64(life), true
}

// Obtain runs the grant unconditionally (a login) under the profile's lock
// and stores what it returns, replacing any cached tokens.
func (s *Service) Obtain(ctx context.Context, r Request) (*Result, error) {
	if s.Grant == nil {
		return nil, errs.New(errs.KindLoginRequired, "cannot log in here%s", hint(s.LoginHint))
	}
	unlock, err := s.Locker.Lock(ctx, s.Profile)
	if err != nil {
		return nil, errs.Wrap(errs.KindStore, fmt.Errorf("waiting for the refresh lock of profile %q: %w", s.Profile, err))
	}
	defer unlock()
	tok, err := s.Grant(ctx)
	if err != nil {
		return nil, err
	}
	key := RequestKey(r.Flow, r.Options)
	if r.GrantKey != "" {
		key = r.GrantKey
	}
	if tok.RefreshToken == "" {
		// A login without a refresh token must not leave an older one
		// of another session behind.
		_ = s.Store.Delete(ctx, s.Profile, credstore.KindRefreshToken)
	}
	at, rt, err := s.save(ctx, tok, nil, key)
	if err != nil {
		return nil, err
	}
	return &Result{Token: at, Source: FromGrant, Refresh: rt}, nil
}
