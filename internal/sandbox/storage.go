package sandbox

import (
	"context"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the in-memory op.Storage behind the sandbox: the demo clients, the
// pending authorization requests and every token still valid. zitadel's op does the
// protocol work and asks it only to remember, look up and forget.
type storage struct {
	issuer  string
	crypto  op.Crypto
	clients map[string]*opClient // fixed at construction

	mu sync.Mutex
	// keys are the published keys, oldest first: the newest active signing
	// key signs, the others stay in the JWKS until retired (admin API).
	keys []*managedKey
	// lifetimes are each client's token lifetimes, which the admin API sets.
	lifetimes map[string]lifetimes
	// users are the subjects a login may be approved for; sessions counts
	// each user's logins not yet ended by the admin API.
	users           map[string]bool
	sessions        map[string]int
	pendingRequests map[string]*pendingRequest
	codes           map[string]string // authorization code → auth request ID
	accessTokens    map[string]*token // by ID, the JWT's jti
	refreshTokens   map[string]*token // by ID, active ones only
	// retired holds rotated-out refresh tokens until they would have expired, so
	// that a reuse is recognised (RFC 9700 §4.14.2).
	retired map[string]*token
}

func newStorage(issuer string, crypto op.Crypto, keys []*managedKey, clients []Client, opts Options) *storage {
	s := &storage{
		issuer:          issuer,
		crypto:          crypto,
		keys:            keys,
		clients:         make(map[string]*opClient, len(clients)),
		lifetimes:       make(map[string]lifetimes, len(clients)),
		users:           map[string]bool{DemoSubject: true},
		sessions:        make(map[string]int),
		pendingRequests: make(map[string]*pendingRequest),
		codes:           make(map[string]string),
		accessTokens:    make(map[string]*token),
		refreshTokens:   make(map[string]*token),
		retired:         make(map[string]*token),
	}
	for _, c := range clients {
		s.clients[c.ID] = &opClient{desc: c, loginURL: issuer + pathLogin + "?id="}
		s.lifetimes[c.ID] = lifetimes{access: opts.AccessTokenLifetime, refresh: opts.RefreshTokenLifetime}
	}
	return s
}

// errClientAuth is a failed client authentication, with its status: op's Server API
// would answer invalid_client with 400, while RFC 6749 §5.2 requires 401 after HTTP
// Basic (RFC 7009 §2.2.1 and RFC 7662 §2.3 defer to it). A new value each time, as
// op sets fields such as state on the errors it writes.
func errClientAuth() error {
	return op.NewStatusError(oidc.ErrInvalidClient().WithDescription("client authentication failed"), http.StatusUnauthorized)
}

// RFC 6750 §3.1 error codes, which oidc has no constructors for.
func errInvalidToken() *oidc.Error {
	return &oidc.Error{ErrorType: "invalid_token", Description: "the access token is not active"}
}

func errInsufficientScope() *oidc.Error {
	return &oidc.Error{ErrorType: "insufficient_scope", Description: "the access token lacks the openid scope"}
}

// grant is what a token stands for.
type grant struct {
	clientID string
	subject  string
	scopes   []string
	audience []string
	authTime time.Time
	// family links the refresh tokens of one authorization and their access tokens,
	// so that a reuse or a revocation can end all of them; empty for client
	// credentials.
	family string
}

func (g grant) GetSubject() string     { return g.subject }
func (g grant) GetAudience() []string  { return g.audience }
func (g grant) GetScopes() []string    { return g.scopes }
func (g grant) GetClientID() string    { return g.clientID }
func (g grant) GetAuthTime() time.Time { return g.authTime }
func (g grant) GetAMR() []string       { return nil }

// token is a stored access or refresh token.
type token struct {
	id      string
	value   string // refresh tokens only: the exact string handed out
	grant   grant
	issued  time.Time
	expires time.Time
}

// refreshRequest is op.RefreshTokenRequest: the grant of a presented refresh token.
type refreshRequest struct {
	grant
	// current is the scope of this token response when the client narrowed it; the
	// rotated refresh token keeps the grant's scope (RFC 6749 §6).
	current []string
}

func (r *refreshRequest) GetScopes() []string {
	if r.current != nil {
		return r.current
	}
	return r.grant.scopes
}

func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.current = scopes }

// pendingRequest is op.AuthRequest: an authorization request until its code is
// exchanged. Storage methods hand out copies, since op reads them after the lock is
// released.
type pendingRequest struct {
	id       string
	created  time.Time
	req      oidc.AuthRequest
	audience []string
	subject  string
	authTime time.Time
	done     bool
	code     string
}

func (a *pendingRequest) GetID() string                      { return a.id }
func (a *pendingRequest) GetACR() string                     { return "" }
func (a *pendingRequest) GetAMR() []string                   { return nil }
func (a *pendingRequest) GetAudience() []string              { return a.audience }
func (a *pendingRequest) GetAuthTime() time.Time             { return a.authTime }
func (a *pendingRequest) GetClientID() string                { return a.req.ClientID }
func (a *pendingRequest) GetNonce() string                   { return a.req.Nonce }
func (a *pendingRequest) GetRedirectURI() string             { return a.req.RedirectURI }
func (a *pendingRequest) GetResponseType() oidc.ResponseType { return a.req.ResponseType }
func (a *pendingRequest) GetResponseMode() oidc.ResponseMode { return a.req.ResponseMode }
func (a *pendingRequest) GetScopes() []string                { return a.req.Scopes }
func (a *pendingRequest) GetState() string                   { return a.req.State }
func (a *pendingRequest) GetSubject() string                 { return a.subject }
func (a *pendingRequest) Done() bool                         { return a.done }

func (a *pendingRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.req.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.req.CodeChallenge, Method: a.req.CodeChallengeMethod}
}

func (a *pendingRequest) clone() *pendingRequest {
	c := *a
	c.req.Scopes = slices.Clone(a.req.Scopes)
	c.audience = slices.Clone(a.audience)
	return &c
}

func (a *pendingRequest) grant() grant {
	return grant{
		clientID: a.req.ClientID,
		subject:  a.subject,
		scopes:   slices.Clone(a.req.Scopes),
		audience: slices.Clone(a.audience),
		authTime: a.authTime,
	}
}

// audienceKey carries the audiences granted to a request from the Server methods
// that validated them to the storage method that records them; op's request types
// have no field for the "audience" parameter.
type audienceKey struct{}

func withAudience(ctx context.Context, aud []string) context.Context {
	return context.WithValue(ctx, audienceKey{}, aud)
}

func audienceFrom(ctx context.Context) []string {
	aud, _ := ctx.Value(audienceKey{}).([]string)
	return slices.Clone(aud)
}

// CreateAuthRequest implements op.AuthStorage.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	id, err := randomString(16)
	if err != nil {
		return nil, err
	}
	a := &pendingRequest{id: id, created: time.Now(), req: *req, audience: audienceFrom(ctx)}
	a.req.Scopes = slices.Clone(req.Scopes)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(time.Now())
	s.pendingRequests[id] = a
	return a.clone(), nil
}

// approve records that the demo user has logged in for the request id.
func (s *storage) approve(id, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.pendingRequests[id]
	if !ok || a.expired(time.Now()) {
		return errors.New("unknown or expired authorization request")
	}
	if !s.users[subject] {
		return errors.New("unknown user")
	}
	a.subject, a.authTime, a.done = subject, time.Now(), true
	// A login opens a session, which revoking the user's tokens ends.
	s.sessions[subject]++
	return nil
}

// expired reports whether the request, or the code issued for it, is too old:
// RFC 6749 §4.1.2 recommends at most ten minutes for a code.
func (a *pendingRequest) expired(now time.Time) bool {
	return now.After(a.created.Add(authorizeCodeLifetime))
}

// AuthRequestByID implements op.AuthStorage.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.pendingRequests[id]
	if !ok || a.expired(time.Now()) {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired authorization request")
	}
	return a.clone(), nil
}

// AuthRequestByCode implements op.AuthStorage.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.pendingRequests[s.codes[code]]
	if !ok || a.code != code || a.expired(time.Now()) {
		return nil, errors.New("unknown, used or expired code")
	}
	return a.clone(), nil
}

// SaveAuthCode implements op.AuthStorage. One authorization yields one code: a
// replayed callback must not mint a second one.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.pendingRequests[id]
	if !ok || a.code != "" {
		return oidc.ErrInvalidRequest().WithDescription("the authorization request was already answered")
	}
	a.code = code
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest implements op.AuthStorage; op calls it once the code is
// exchanged, which makes the code single-use (RFC 6749 §4.1.2).
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.pendingRequests[id]; ok {
		delete(s.codes, a.code)
		delete(s.pendingRequests, id)
	}
	return nil
}

// grantOf returns what request stands for; op passes the types this storage
// returned from CreateAuthRequest, ClientCredentialsTokenRequest and
// TokenRequestByRefreshToken.
func grantOf(request op.TokenRequest) (grant, error) {
	switch r := request.(type) {
	case *pendingRequest:
		return r.grant(), nil
	case grant:
		return r, nil
	case *refreshRequest:
		g := r.grant
		g.scopes = slices.Clone(r.GetScopes())
		return g, nil
	default:
		return grant{}, oidc.ErrServerError().WithDescription("unexpected token request type %T", request)
	}
}

// CreateAccessToken implements op.AuthStorage for tokens without a refresh token.
func (s *storage) CreateAccessToken(_ context.Context, request op.TokenRequest) (string, time.Time, error) {
	g, err := grantOf(request)
	if err != nil {
		return "", time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(time.Now())
	at, err := s.newAccessTokenLocked(g)
	if err != nil {
		return "", time.Time{}, err
	}
	return at.id, at.expires, nil
}

// CreateAccessAndRefreshTokens implements op.AuthStorage. With currentRefreshToken
// set it rotates: the presented token is retired and a new one of the same family
// issued, all under one lock, so that of two requests racing with one refresh token
// only one can rotate it.
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, request op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	g, err := grantOf(request)
	if err != nil {
		return "", "", time.Time{}, err
	}
	refreshGrant := g
	if r, ok := request.(*refreshRequest); ok {
		refreshGrant.scopes = slices.Clone(r.grant.scopes)
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	if currentRefreshToken != "" {
		cur, err := s.activeRefreshLocked(currentRefreshToken, now)
		if err != nil {
			return "", "", time.Time{}, err
		}
		delete(s.refreshTokens, cur.id)
		s.retired[cur.id] = cur
		g.family, refreshGrant.family = cur.grant.family, cur.grant.family
	} else {
		family, err := randomString(16)
		if err != nil {
			return "", "", time.Time{}, err
		}
		g.family, refreshGrant.family = family, family
	}
	at, err := s.newAccessTokenLocked(g)
	if err != nil {
		return "", "", time.Time{}, err
	}
	rt, err := s.newRefreshTokenLocked(refreshGrant, now)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return at.id, rt.value, at.expires, nil
}

func (s *storage) newAccessTokenLocked(g grant) (*token, error) {
	id, err := randomString(16)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	at := &token{id: id, grant: g, issued: now, expires: now.Add(s.lifetimes[g.clientID].access)}
	s.accessTokens[id] = at
	return at, nil
}

// newRefreshTokenLocked mints a refresh token in op's own opaque-token format, the
// encryption of "id:subject" that op.CreateBearerToken uses, so that op's
// introspection endpoint recognises refresh tokens too (RFC 7662 §2.1).
func (s *storage) newRefreshTokenLocked(g grant, now time.Time) (*token, error) {
	id, err := randomString(16)
	if err != nil {
		return nil, err
	}
	value, err := s.crypto.Encrypt(id + ":" + g.subject)
	if err != nil {
		return nil, err
	}
	rt := &token{id: id, value: value, grant: g, issued: now, expires: now.Add(s.lifetimes[g.clientID].refresh)}
	s.refreshTokens[id] = rt
	return rt, nil
}

// refreshTokenID returns the ID inside a refresh token. The encryption is not
// authenticated, so callers compare the whole stored value as well.
func (s *storage) refreshTokenID(value string) (string, bool) {
	plain, err := s.crypto.Decrypt(value)
	if err != nil {
		return "", false
	}
	id, _, ok := strings.Cut(plain, ":")
	return id, ok
}

// activeRefreshLocked finds the active refresh token value. A retired one means the
// token was used twice: one of the users is not the legitimate client, so the whole
// family is revoked (RFC 9700 §4.14.2).
func (s *storage) activeRefreshLocked(value string, now time.Time) (*token, error) {
	id, ok := s.refreshTokenID(value)
	if !ok {
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown refresh token")
	}
	if rt, ok := s.refreshTokens[id]; ok && sameValue(rt.value, value) && now.Before(rt.expires) {
		return rt, nil
	}
	if old, ok := s.retired[id]; ok && sameValue(old.value, value) {
		s.revokeFamilyLocked(old.grant.family)
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token reused; the grant is revoked")
	}
	return nil, oidc.ErrInvalidGrant().WithDescription("unknown, revoked or expired refresh token")
}

func sameValue(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *storage) revokeFamilyLocked(family string) {
	if family == "" {
		return
	}
	for _, m := range []map[string]*token{s.accessTokens, s.refreshTokens, s.retired} {
		for id, t := range m {
			if t.grant.family == family {
				delete(m, id)
			}
		}
	}
}

// pruneLocked forgets what has expired, so that a long-running sandbox does not grow.
func (s *storage) pruneLocked(now time.Time) {
	for id, a := range s.pendingRequests {
		if a.expired(now) {
			delete(s.codes, a.code)
			delete(s.pendingRequests, id)
		}
	}
	for _, m := range []map[string]*token{s.accessTokens, s.refreshTokens, s.retired} {
		for id, t := range m {
			if now.After(t.expires) {
				delete(m, id)
			}
		}
	}
}

// TokenRequestByRefreshToken implements op.AuthStorage.
func (s *storage) TokenRequestByRefreshToken(_ context.Context, value string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, err := s.activeRefreshLocked(value, time.Now())
	if err != nil {
		return nil, err
	}
	g := rt.grant
	g.scopes, g.audience = slices.Clone(g.scopes), slices.Clone(g.audience)
	return &refreshRequest{grant: g}, nil
}

// TerminateSession implements op.AuthStorage; the sandbox keeps no sessions.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// GetRefreshTokenInfo implements op.AuthStorage.
func (s *storage) GetRefreshTokenInfo(_ context.Context, _ string, value string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.refreshTokenID(value)
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	rt, ok := s.refreshTokens[id]
	if !ok || !sameValue(rt.value, value) {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.grant.subject, rt.id, nil
}

// RevokeToken implements op.AuthStorage (RFC 7009). op passes the ID of an access
// token or of a refresh token. Revoking a refresh token ends its whole family, the
// access tokens included, as RFC 7009 §2.1 recommends. Unknown tokens are not an
// error (RFC 7009 §2.2).
func (s *storage) RevokeToken(_ context.Context, idOrToken, subject, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.accessTokens[idOrToken]; ok && matchesSubject(at, subject) {
		if at.grant.clientID != clientID {
			return oidc.ErrUnauthorizedClient().WithDescription("the token was not issued to this client")
		}
		delete(s.accessTokens, idOrToken)
		return nil
	}
	id := idOrToken
	if _, ok := s.refreshTokens[id]; !ok {
		// op hands over the token itself when it could not tell what it is.
		if inner, ok := s.refreshTokenID(idOrToken); ok {
			if rt, ok := s.refreshTokens[inner]; ok && sameValue(rt.value, idOrToken) {
				id = inner
			}
		}
	}
	rt, ok := s.refreshTokens[id]
	if !ok || !matchesSubject(rt, subject) {
		return nil
	}
	if rt.grant.clientID != clientID {
		return oidc.ErrUnauthorizedClient().WithDescription("the token was not issued to this client")
	}
	s.revokeFamilyLocked(rt.grant.family)
	return nil
}

// matchesSubject checks the subject op read from a token against the stored one. op
// passes only the ID and subject of a refresh token it decrypted, and the encryption
// is not authenticated: an altered token decrypts to the right ID with a garbled
// subject, and must not count as the token.
func matchesSubject(t *token, subject string) bool {
	return subject == "" || subject == t.grant.subject
}

// SigningKey implements op.AuthStorage: the newest active signing key.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.keys) - 1; i >= 0; i-- {
		if k := s.keys[i]; k.use == useSig && k.status == keyActive {
			return k.signingKey, nil
		}
	}
	return nil, oidc.ErrServerError().WithDescription("no active signing key")
}

// SignatureAlgorithms implements op.AuthStorage.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet implements op.AuthStorage: the public halves of every published
// key, the encryption key (use "enc") included. op verifies its own access
// tokens against this set, so a retired signing key's tokens stop
// verifying here too.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]op.Key, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, publicKey{k})
	}
	return out, nil
}

// GetClientByClientID implements op.OPStorage.
func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, errClientAuth()
	}
	return c, nil
}

// AuthorizeClientIDSecret implements op.OPStorage.
func (s *storage) AuthorizeClientIDSecret(_ context.Context, clientID, secret string) error {
	c, ok := s.clients[clientID]
	if !ok || c.desc.Secret == "" || !sameValue(c.desc.Secret, secret) {
		return errClientAuth()
	}
	return nil
}

// ClientCredentials implements op.ClientCredentialsStorage: it authenticates the
// client of a client_credentials request. A public client is returned as it is, and
// op then refuses it the grant type (unauthorized_client).
func (s *storage) ClientCredentials(ctx context.Context, clientID, secret string) (op.Client, error) {
	c, ok := s.clients[clientID]
	if ok && c.desc.Secret == "" && secret == "" {
		return c, nil
	}
	if err := s.AuthorizeClientIDSecret(ctx, clientID, secret); err != nil {
		return nil, err
	}
	return c, nil
}

// ClientCredentialsTokenRequest implements op.ClientCredentialsStorage. There is no
// resource owner, so the client is the subject (RFC 9068 §2.2).
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, errClientAuth()
	}
	for _, scope := range scopes {
		if !c.IsScopeAllowed(scope) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for this client", scope)
		}
	}
	return grant{clientID: clientID, subject: clientID, scopes: slices.Clone(scopes), audience: audienceFrom(ctx)}, nil
}

// SetUserinfoFromScopes implements op.OPStorage; op asks implementations to leave
// it empty and implement SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest implements op.CanSetUserinfoFromRequest, for ID tokens.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, request op.IDTokenRequest, scopes []string) error {
	setUserinfo(info, request.GetSubject(), scopes)
	return nil
}

// SetUserinfoFromToken implements op.OPStorage for the userinfo endpoint, which
// answers only for an active access token with the openid scope (OpenID Connect
// Core §5.3).
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.accessTokens[tokenID]
	if !ok || time.Now().After(at.expires) || !matchesSubject(at, subject) {
		return errInvalidToken()
	}
	if !slices.Contains(at.grant.scopes, oidc.ScopeOpenID) {
		return errInsufficientScope()
	}
	setUserinfo(info, at.grant.subject, at.grant.scopes)
	return nil
}

func setUserinfo(info *oidc.UserInfo, subject string, scopes []string) {
	info.Subject = subject
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.PreferredUsername = subject
		info.Name = demoUserName
	}
}

// SetIntrospectionFromToken implements op.OPStorage (RFC 7662 §2.2). op has
// authenticated the caller and found tokenID in an access token it verified or in a
// refresh token it decrypted; an error makes op answer active=false.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	use := "access_token"
	t, ok := s.accessTokens[tokenID]
	if !ok {
		use = "refresh_token"
		t, ok = s.refreshTokens[tokenID]
	}
	if !ok || now.After(t.expires) || !matchesSubject(t, subject) {
		return errors.New("token not active")
	}
	g := t.grant
	resp.Issuer = s.issuer
	resp.ClientID = g.clientID
	resp.Subject = g.subject
	resp.Username = g.subject
	resp.Scope = slices.Clone(g.scopes)
	resp.Audience = slices.Clone(g.audience)
	resp.IssuedAt = oidc.FromTime(t.issued)
	resp.Expiration = oidc.FromTime(t.expires)
	if use == "access_token" {
		resp.TokenType = oidc.BearerToken
		if len(resp.Audience) == 0 {
			// As in the JWT: op's access-token claims fall back to the client.
			resp.Audience = []string{g.clientID}
		}
	}
	// Not in RFC 7662; Ory Hydra's name for which kind of token this is.
	resp.Claims = map[string]any{"token_use": use}
	return nil
}

// GetPrivateClaimsFromScopes implements op.OPStorage; op calls
// GetPrivateClaimsFromRequest instead.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest implements op.CanGetPrivateClaimsFromRequest: the
// access token's "scope" claim, space separated (RFC 9068 §2.2.3), which op leaves
// to the storage.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, request op.TokenRequest, _ []string) (map[string]any, error) {
	scopes := request.GetScopes()
	if len(scopes) == 0 {
		return nil, nil
	}
	return map[string]any{"scope": strings.Join(scopes, " ")}, nil
}

// GetKeyByIDAndClientID implements op.OPStorage. It serves the JWT profile grant and
// private_key_jwt, which no demo client uses.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("no client keys are registered")
}

// ValidateJWTProfileScopes implements op.OPStorage; see GetKeyByIDAndClientID.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnauthorizedClient().WithDescription("the JWT profile grant is not supported")
}

// Health implements op.Storage.
func (s *storage) Health(context.Context) error { return nil }

// signingKey is an RSA key JWTs are signed with.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

// publicKey is the JWKS entry of a managed key.
type publicKey struct{ k *managedKey }

func (p publicKey) ID() string  { return p.k.id }
func (p publicKey) Use() string { return p.k.use }

// Algorithm is op's name for the JWK "alg" member, which for an encryption
// key names a key-management algorithm (RFC 7518 §4.1).
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(p.k.alg) }
func (p publicKey) Key() any                           { return p.k.public }

// opClient is op.Client for a demo client.
type opClient struct {
	desc     Client
	loginURL string
}

func (c *opClient) GetID() string                    { return c.desc.ID }
func (c *opClient) RedirectURIs() []string           { return c.desc.RedirectURIs }
func (c *opClient) PostLogoutRedirectURIs() []string { return nil }

// ApplicationType is native for both clients: op then accepts a loopback redirect
// URI on any port (RFC 8252 §7.3); for web clients it wants an exact match.
func (c *opClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeNative }

// AuthMethod names how the client authenticates; op accepts the secret in HTTP
// Basic or in the body whatever it says.
func (c *opClient) AuthMethod() oidc.AuthMethod {
	if c.desc.Secret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *opClient) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.desc.GrantTypes))
	for i, g := range c.desc.GrantTypes {
		out[i] = oidc.GrantType(g)
	}
	return out
}

func (c *opClient) LoginURL(id string) string                                    { return c.loginURL + id }
func (c *opClient) AccessTokenType() op.AccessTokenType                          { return op.AccessTokenTypeJWT }
func (c *opClient) IDTokenLifetime() time.Duration                               { return idTokenLifetime }
func (c *opClient) DevMode() bool                                                { return false }
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool                         { return false }
func (c *opClient) ClockSkew() time.Duration                                     { return 0 }
func (c *opClient) IsScopeAllowed(scope string) bool                             { return slices.Contains(c.desc.Scopes, scope) }
func (c *opClient) allowsAudience(aud string) bool                               { return slices.Contains(c.desc.Audiences, aud) }
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string     { return keepScopes }
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string { return keepScopes }

func keepScopes(scopes []string) []string { return scopes }
