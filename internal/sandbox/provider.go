package sandbox

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	// go-jose v3 because that is the key type fosite v0.49's signer understands.
	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/storage"
	"github.com/ory/fosite/token/jwt"
)

const (
	// RFC 6749 §4.1.2 recommends at most ten minutes for an authorization code.
	authorizeCodeLifetime = 10 * time.Minute
	idTokenLifetime       = time.Hour
	// Client secrets are random or chosen by the person running a throwaway sandbox;
	// bcrypt's minimum cost keeps every token request fast.
	bcryptCost         = 4
	rsaKeyBits         = 2048
	signingAlg         = "RS256"
	accessTokenJWTType = "at+jwt" // RFC 9068 §2.1
)

// scopesSupported lists every scope some demo client may request.
func scopesSupported() []string {
	return []string{"openid", "profile", "offline_access", "api:read", "api:write"}
}

func newServer(ctx context.Context, opts Options, issuer string) (*Server, error) {
	key, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return nil, fmt.Errorf("sandbox: generate signing key: %w", err)
	}
	signingKey := &jose.JSONWebKey{Key: key, Algorithm: signingAlg, Use: "sig"}
	public := signingKey.Public()
	thumbprint, err := public.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sandbox: compute key id: %w", err)
	}
	// RFC 7638 thumbprint as kid: stable for the key and unique across sandbox runs.
	// go-jose copies KeyID into the "kid" header of everything fosite signs with it.
	signingKey.KeyID = base64.RawURLEncoding.EncodeToString(thumbprint)
	public.KeyID = signingKey.KeyID
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{public}})
	if err != nil {
		return nil, fmt.Errorf("sandbox: encode jwks: %w", err)
	}

	globalSecret := make([]byte, 32)
	if _, err := rand.Read(globalSecret); err != nil {
		return nil, fmt.Errorf("sandbox: generate hmac secret: %w", err)
	}
	cfg := &fosite.Config{
		AccessTokenLifespan:   opts.AccessTokenLifetime,
		RefreshTokenLifespan:  opts.RefreshTokenLifetime,
		AuthorizeCodeLifespan: authorizeCodeLifetime,
		IDTokenLifespan:       idTokenLifetime,
		IDTokenIssuer:         issuer,
		AccessTokenIssuer:     issuer,
		TokenURL:              issuer + "/token",
		GlobalSecret:          globalSecret,
		HashCost:              bcryptCost,
		ScopeStrategy:         fosite.ExactScopeStrategy,
		// PKCE for every client, confidential ones included (RFC 9700 §2.1.1); only
		// S256, since plain is off by default.
		EnforcePKCE: true,
		// RFC 9068 §2.2.3: the "scope" claim, space separated.
		JWTScopeClaimKey: jwt.JWTScopeFieldString,
	}

	store := storage.NewMemoryStore()
	clients, err := registerClients(ctx, cfg, store, opts.ClientSecret)
	if err != nil {
		return nil, err
	}

	keyGetter := func(context.Context) (interface{}, error) { return signingKey, nil }
	strategy := &compose.CommonStrategy{
		// JWT access tokens (verifiable against /jwks); refresh tokens and codes stay
		// opaque HMAC values whose state lives in the store.
		CoreStrategy:               compose.NewOAuth2JWTStrategy(keyGetter, compose.NewOAuth2HMACStrategy(cfg), cfg),
		OpenIDConnectTokenStrategy: compose.NewOpenIDConnectStrategy(keyGetter, cfg),
		Signer:                     &jwt.DefaultSigner{GetPrivateKey: keyGetter},
	}
	provider := compose.Compose(cfg, store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		// The store-backed introspector, not the stateless JWT one: a revoked JWT
		// access token still has a valid signature and must be reported inactive.
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		// After the code handler: it keys the PKCE session by the code just minted.
		compose.OAuth2PKCEFactory,
	)

	return &Server{
		issuer:   issuer,
		clients:  clients,
		provider: provider,
		jwks:     jwks,
		log:      opts.Log,
		counts:   make(map[string]int),
	}, nil
}

func registerClients(ctx context.Context, cfg *fosite.Config, store *storage.MemoryStore, secret string) ([]Client, error) {
	hashed, err := cfg.GetSecretsHasher(ctx).Hash(ctx, []byte(secret))
	if err != nil {
		return nil, fmt.Errorf("sandbox: hash client secret: %w", err)
	}
	clients := []Client{
		{
			ID:         ServiceClientID,
			Secret:     secret,
			AuthMethod: "client_secret_basic",
			// Besides client_credentials, the confidential client can run the whole
			// user lifecycle (code, refresh, revoke) and then introspect, which
			// fosite allows only with client credentials in HTTP Basic.
			GrantTypes:   []string{"client_credentials", "authorization_code", "refresh_token"},
			RedirectURIs: []string{LoopbackRedirectURI},
			Scopes:       []string{"api:read", "api:write", "openid", "offline_access", "profile"},
			Audiences:    []string{DemoAudience},
		},
		{
			ID:           CLIClientID,
			AuthMethod:   "none",
			GrantTypes:   []string{"authorization_code", "refresh_token"},
			RedirectURIs: []string{LoopbackRedirectURI},
			Scopes:       []string{"openid", "offline_access", "profile", "api:read"},
			Audiences:    []string{DemoAudience},
		},
	}
	for _, c := range clients {
		// fosite.DefaultClient rather than DefaultOpenIDConnectClient: the latter pins
		// one token_endpoint_auth_method, while DefaultClient accepts both
		// client_secret_basic and client_secret_post. It also offers no response modes,
		// so fosite answers every authorization request in the query (RFC 6749 §4.1.2).
		fc := &fosite.DefaultClient{
			ID:            c.ID,
			RedirectURIs:  c.RedirectURIs,
			GrantTypes:    c.GrantTypes,
			ResponseTypes: []string{"code"},
			Scopes:        c.Scopes,
			Audience:      c.Audiences,
			Public:        c.Secret == "",
		}
		if !fc.Public {
			fc.Secret = hashed
		}
		store.Clients[c.ID] = fc
	}
	return clients, nil
}

// session is the one fosite session type used everywhere. fosite keeps a single
// session per grant, and its JWT access-token strategy and its OpenID Connect handlers
// each type-assert a different interface on it, so it carries both claim sets.
type session struct {
	*openid.DefaultSession
	AccessClaims *jwt.JWTClaims
	AccessHeader *jwt.Headers
}

// newSession returns a session for subject, as issued to clientID. Both may be empty
// when the token endpoint has not yet learnt them; fosite then replaces the session
// with the stored one (code and refresh grants) or the token handler fills it in
// (client credentials).
func newSession(subject, clientID string) *session {
	now := time.Now().UTC().Truncate(time.Second)
	s := &session{
		DefaultSession: &openid.DefaultSession{
			Claims: &jwt.IDTokenClaims{
				Subject: subject,
				// The demo user "logs in" at the moment of the request; equal times
				// satisfy fosite's checks for both prompt=login and prompt=none.
				AuthTime:    now,
				RequestedAt: now,
			},
			Headers:  &jwt.Headers{Extra: map[string]interface{}{}},
			Subject:  subject,
			Username: subject,
		},
		AccessClaims: &jwt.JWTClaims{Subject: subject, Extra: map[string]interface{}{}},
		AccessHeader: &jwt.Headers{Extra: map[string]interface{}{"typ": accessTokenJWTType}},
	}
	s.setClientID(clientID)
	return s
}

// setClientID records the RFC 9068 §2.2 client_id claim of the access token.
func (s *session) setClientID(clientID string) {
	if clientID != "" {
		s.AccessClaims.Extra["client_id"] = clientID
	}
}

// GetJWTClaims implements oauth2.JWTSessionContainer.
func (s *session) GetJWTClaims() jwt.JWTClaimsContainer {
	if s.AccessClaims == nil {
		s.AccessClaims = &jwt.JWTClaims{Extra: map[string]interface{}{}}
	}
	return s.AccessClaims
}

// GetJWTHeader implements oauth2.JWTSessionContainer.
func (s *session) GetJWTHeader() *jwt.Headers {
	if s.AccessHeader == nil {
		s.AccessHeader = &jwt.Headers{Extra: map[string]interface{}{"typ": accessTokenJWTType}}
	}
	return s.AccessHeader
}

// Clone implements fosite.Session. fosite clones the stored session on refresh and
// then mutates the copy, so nothing may be shared with the original.
func (s *session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := &session{}
	if s.DefaultSession != nil {
		c.DefaultSession = s.DefaultSession.Clone().(*openid.DefaultSession)
	}
	if s.AccessClaims != nil {
		claims := *s.AccessClaims
		claims.Audience = append([]string(nil), s.AccessClaims.Audience...)
		claims.Scope = append([]string(nil), s.AccessClaims.Scope...)
		claims.Extra = jwt.Copy(s.AccessClaims.Extra)
		c.AccessClaims = &claims
	}
	if s.AccessHeader != nil {
		c.AccessHeader = &jwt.Headers{Extra: jwt.Copy(s.AccessHeader.Extra)}
	}
	return c
}
