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
	// DPoPKey returns the thumbprint of the profile's stored DPoP key, ""
	// when it has none; it never makes one. nil means no key can exist.
	DPoPKey func(ctx context.Context) (string, error)
	// DPoPRequired refuses cached Bearer tokens: the profile asks for
	// DPoP-bound ones (RFC 9449).
	DPoPRequired bool
}

// dpopKey is the stored key's thumbprint, "" when there is none.
func (s *Service) dpopKey(ctx context.Context) (string, error) {
	if s.DPoPKey == nil {
		return "", nil
	}
	return s.DPoPKey(ctx)
}

// Request is what the caller wants.
type Request struct {
	Options oauth.TokenOptions
	// MinTTL is the shortest remaining life a cached token may have;
	// AutoMinTTL means 60 seconds, or half the token's lifetime when that
	// is shorter, so that IdPs issuing one-minute tokens still cache.
	MinTTL  time.Duration
	NoCache bool
	Refresh bool // force a refresh_token grant
	NoGrant bool // never run the grant, only cache or refresh
}

// AutoMinTTL asks for the default remaining-life rule.
const AutoMinTTL time.Duration = -1

// defaultMinTTL is the remaining life a cached token must have by default.
const defaultMinTTL = 60 * time.Second

// Result is the token and where it came from.
type Result struct {
	Token   *credstore.AccessToken
	Source  Source
	Rotated bool // a refresh returned a new refresh token
	Refresh *credstore.RefreshToken
}

// RequestKey names the API a token is for: its audience and resources.
// Neither the grant that produced a token nor the exact scope list is part
// of it: a token from a browser login serves a later `token get` of the
// same profile, and scopes are compared as sets (see usable).
// RFC 9396 authorization details are part of it: a token granted for one
// payment is no token for another.
func RequestKey(o oauth.TokenOptions) string {
	res := append([]string(nil), o.Resources...)
	sort.Strings(res)
	key := o.Audience + "|" + strings.Join(res, " ")
	if o.AuthorizationDetails != "" {
		key += "|" + o.AuthorizationDetails
	}
	return key
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// usable tells whether a cached access token can be returned for r. A
// DPoP-bound token is worthless without its key (RFC 9449 §7), so it is
// served only while the profile holds that very key.
func (s *Service) usable(ctx context.Context, at *credstore.AccessToken, r Request) bool {
	if at == nil || !oauth.ValidTokenChars(at.AccessToken) || at.Issuer != s.Issuer || at.ClientID != s.ClientID || at.Request != RequestKey(r.Options) {
		return false
	}
	if at.DPoPJkt == "" && s.DPoPRequired && !at.DPoPDeclined {
		return false
	}
	if !coversScopes(at, r.Options.Scopes) {
		return false
	}
	if at.ExpiresAt.IsZero() {
		// Lifetime unknown: never assume it is still good.
		return false
	}
	minTTL := r.MinTTL
	if minTTL < 0 {
		minTTL = defaultMinTTL
		if life := at.ExpiresAt.Sub(at.ObtainedAt); life > 0 && life/2 < minTTL {
			minTTL = life / 2
		}
	}
	if at.ExpiresAt.Sub(s.now()) < minTTL {
		return false
	}
	// Last: the key is read from the credential store, which is worth
	// doing only for a token that would otherwise be served.
	if at.DPoPJkt != "" {
		if jkt, err := s.dpopKey(ctx); err != nil || jkt != at.DPoPJkt {
			return false
		}
	}
	return true
}

// coversScopes tells whether the token holds every requested scope: those
// the IdP said it granted, else those that were asked for when it was
// obtained. A request naming no scope takes the token as it is.
func coversScopes(at *credstore.AccessToken, want []string) bool {
	if len(want) == 0 {
		return true
	}
	// RFC 6749 §5.1: the IdP names the scope when it differs from the
	// request; what it names is all the token holds. Only when it names
	// none is the request taken as granted.
	granted := at.Scope
	if strings.TrimSpace(granted) == "" {
		granted = at.RequestedScope
	}
	have := map[string]bool{}
	for _, sc := range strings.Fields(granted) {
		have[sc] = true
	}
	for _, sc := range want {
		if !have[sc] && sc != OfflineAccess {
			return false
		}
	}
	return true
}

// OfflineAccess asks for a refresh token (OIDC Core §11), not for access:
// IdPs often leave it out of the access token's granted scope, which must
// not make a token look short of it.
const OfflineAccess = "offline_access"

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

// ErrShortLived says the IdP issued a token that does not live as long as
// the caller asked with an explicit MinTTL.
var ErrShortLived = errors.New("the IdP issues tokens shorter-lived than asked for")

// Get returns an access token with at least MinTTL left: from the cache,
// else by refreshing, else by running the grant. A fresh token that lives
// less than an explicit MinTTL is stored, for later calls that ask for less,
// but not returned: the caller's promise (a token valid for the next ten
// minutes) cannot be kept.
func (s *Service) Get(ctx context.Context, r Request) (*Result, error) {
	res, err := s.get(ctx, r)
	if err != nil {
		return nil, err
	}
	if res.Source != FromCache && r.MinTTL > 0 && !res.Token.ExpiresAt.IsZero() {
		if left := res.Token.ExpiresAt.Sub(s.now()); left < r.MinTTL {
			return nil, fmt.Errorf("%w: a new token from the IdP is valid for %s, less than the --min-ttl of %s; lower --min-ttl or raise the token lifetime at the IdP", ErrShortLived, left.Round(time.Second), r.MinTTL)
		}
	}
	return res, nil
}

func (s *Service) get(ctx context.Context, r Request) (*Result, error) {
	if !r.NoCache && !r.Refresh {
		at, err := s.loadAccess(ctx)
		if err != nil {
			return nil, err
		}
		if s.usable(ctx, at, r) {
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
		if s.usable(ctx, at, r) {
			return &Result{Token: at, Source: FromCache}, nil
		}
	}
	rt, err := s.LoadRefresh(ctx)
	if err != nil {
		return nil, err
	}
	if rt != nil {
		res, err := s.refreshLocked(ctx, rt, r)
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
	at, newRT, err := s.save(ctx, tok, nil, r)
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
func (s *Service) refreshLocked(ctx context.Context, rt *credstore.RefreshToken, r Request) (*Result, error) {
	client, err := s.Client(ctx)
	if err != nil {
		return nil, err
	}
	// Prove the store takes writes before spending the refresh token: a
	// rotating IdP consumes it, and a new one that cannot be saved loses
	// the grant (a read-only state directory, a keychain locked meanwhile).
	if err := credstore.SaveJSON(ctx, s.Store, s.Profile, credstore.KindRefreshToken, rt); err != nil {
		return nil, fmt.Errorf("the credential store cannot be written, so the refresh token was not used: %w", err)
	}
	opts := r.Options
	opts.Scopes = grantedScopes(opts.Scopes, rt.Scope)
	if rt.DPoPJkt != "" {
		// RFC 9449 §5: a bound refresh token is refused without a proof
		// of its key, so the key must still be the same one.
		jkt, err := s.dpopKey(ctx)
		if err != nil {
			return nil, err
		}
		if jkt != rt.DPoPJkt {
			return nil, errs.New(errs.KindLoginRequired, "the cached refresh token of profile %q is bound to a DPoP key the profile no longer holds%s", s.Profile, hint(s.LoginHint))
		}
		opts.DPoP = true
	}
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
	at, newRT, err := s.save(ctx, tok, rt, r)
	if err != nil {
		return nil, err
	}
	rotated := tok.RefreshToken != "" && tok.RefreshToken != rt.RefreshToken
	return &Result{Token: at, Source: FromRefresh, Rotated: rotated, Refresh: newRT}, nil
}

// grantedScopes drops from a refresh request the scopes the refresh token
// was not granted: RFC 6749 §6 forbids asking for them, and IdPs often grant
// less than a login asked for (oidc-provider drops offline_access without
// prompt=consent), which would otherwise fail every refresh with
// invalid_scope. An unknown grant, or a request for nothing it holds, is
// left for the IdP to judge.
func grantedScopes(requested []string, granted string) []string {
	have := strings.Fields(granted)
	if len(requested) == 0 || len(have) == 0 {
		return requested
	}
	var keep []string
	for _, s := range requested {
		for _, g := range have {
			if s == g {
				keep = append(keep, s)
				break
			}
		}
	}
	if len(keep) == 0 {
		return requested
	}
	return keep
}

// save stores the new refresh token first, then the access token: if the
// process dies between the two, the next run still holds a usable
// refresh token rather than a consumed one.
func (s *Service) save(ctx context.Context, tok *oauth.Token, old *credstore.RefreshToken, r Request) (*credstore.AccessToken, *credstore.RefreshToken, error) {
	now := s.now().UTC()
	var rt *credstore.RefreshToken
	switch {
	case tok.RefreshToken != "" && (old == nil || tok.RefreshToken != old.RefreshToken):
		rt = &credstore.RefreshToken{
			RefreshToken: tok.RefreshToken, IssuedAt: now, ExpiresAt: tok.RefreshExpiresAt.UTC(),
			Scope: tok.Scope, Issuer: s.Issuer, ClientID: s.ClientID, DPoPJkt: tok.DPoPJkt,
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
		Scope: tok.Scope, IDToken: tok.IDToken, ObtainedAt: now, Issuer: s.Issuer, ClientID: s.ClientID,
		Request: RequestKey(r.Options), RequestedScope: strings.Join(r.Options.Scopes, " "),
		DPoPJkt: tok.DPoPJkt, AuthorizationDetails: tok.AuthorizationDetails,
		DPoPDeclined: s.DPoPRequired && tok.DPoPJkt == "",
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
	// Prove the store takes writes before a person spends a login on it: a
	// locked keychain or a read-only state directory found only afterwards
	// throws the login away.
	if _, err := credstore.Probe(ctx, s.Store); err != nil {
		if errs.KindOf(err) == errs.KindUnknown {
			err = errs.Wrap(errs.KindStore, err)
		}
		return nil, fmt.Errorf("the credential store cannot save a login, so none was started: %w", err)
	}
	tok, err := s.Grant(ctx)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		// A login without a refresh token must not leave an older one
		// of another session behind.
		_ = s.Store.Delete(ctx, s.Profile, credstore.KindRefreshToken)
	}
	at, rt, err := s.save(ctx, tok, nil, r)
	if err != nil {
		return nil, err
	}
	return &Result{Token: at, Source: FromGrant, Refresh: rt}, nil
}
