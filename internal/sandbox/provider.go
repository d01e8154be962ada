package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	// RFC 6749 §4.1.2 recommends at most ten minutes for an authorization code.
	authorizeCodeLifetime = 10 * time.Minute
	idTokenLifetime       = time.Hour
	rsaKeyBits            = 2048
	signingAlg            = "RS256"
	demoUserName          = "Demo User"
	// pathLogin is the client's "login page" op redirects to with the request ID; it
	// approves the request for the demo user at once.
	pathLogin = "/login"
)

// scopesSupported lists every scope some demo client may request.
func scopesSupported() []string {
	return []string{"openid", "profile", "offline_access", "api:read", "api:write"}
}

// claimsSupported lists the claims the sandbox's ID tokens and userinfo carry.
func claimsSupported() []string {
	return []string{
		"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "c_hash",
		"name", "preferred_username",
	}
}

// SeededUser is the name of the i-th seeded user (from 1).
func SeededUser(i int) string { return fmt.Sprintf("user-%04d", i) }

func demoClients(secret string) []Client {
	return []Client{
		{
			ID:         ServiceClientID,
			Secret:     secret,
			AuthMethod: "client_secret_basic",
			// Besides client_credentials, the confidential client can run the whole
			// user lifecycle (code, refresh, revoke) and then introspect, which only
			// an authenticated client may.
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
}

func newServer(opts Options, issuer string) (*Server, error) {
	sig, err := newSigningKey(time.Now())
	if err != nil {
		return nil, err
	}
	enc, err := newEncryptionKey(time.Now())
	if err != nil {
		return nil, err
	}

	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, fmt.Errorf("sandbox: generate token encryption key: %w", err)
	}
	// One instance for op (codes) and the storage (refresh tokens), so that op can
	// read the refresh tokens the storage mints.
	tokenCrypto := op.NewAESCrypto(cryptoKey)

	clients := demoClients(opts.ClientSecret)
	store := newStorage(issuer, tokenCrypto, []*managedKey{sig, enc}, clients, opts)
	// op logs through slog; the sandbox logs requests itself (Options.Log) and must
	// not print op's lines, some of which hold redirect URLs, on the caller's stderr.
	quiet := slog.New(slog.DiscardHandler)
	provider, err := op.NewProvider(&op.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       scopesSupported(),
		SupportedClaims:       claimsSupported(),
	}, store, op.StaticIssuer(issuer),
		// The issuer is http://127.0.0.1:PORT: the sandbox serves loopback only,
		// where idpctl accepts plain HTTP.
		op.WithAllowInsecure(),
		op.WithCrypto(tokenCrypto),
		op.WithLogger(quiet),
	)
	if err != nil {
		return nil, fmt.Errorf("sandbox: create provider: %w", err)
	}
	// Endpoints are given to the server, not to the provider: op's WithCustom*Endpoint
	// options write into its package-level DefaultEndpoints, which sandboxes started
	// in parallel would race on.
	legacy := op.NewLegacyServer(provider, op.Endpoints{
		Authorization: op.NewEndpoint(PathAuthorize),
		Token:         op.NewEndpoint(PathToken),
		Introspection: op.NewEndpoint(PathIntrospect),
		Userinfo:      op.NewEndpoint(PathUserinfo),
		Revocation:    op.NewEndpoint(PathRevoke),
		JwksURI:       op.NewEndpoint(PathJWKS),
	})
	srv := &opServer{LegacyServer: legacy}
	handler := op.RegisterLegacyServer(srv, op.AuthorizeCallbackHandler(provider),
		op.WithFallbackLogger(quiet),
		// No CORS: op's default lets any web origin call the endpoints with
		// credentials, and nothing the sandbox serves is meant for a browser's fetch.
		op.WithServerCORSOptions(nil),
	)
	now := time.Now()
	for i := 1; i <= opts.Users; i++ {
		u := SeededUser(i)
		store.addUserLocked(u)
		if err := store.seedGrantLocked(u, now); err != nil {
			return nil, fmt.Errorf("sandbox: seed users: %w", err)
		}
	}
	return &Server{
		issuer:      issuer,
		clients:     clients,
		store:       store,
		op:          srv,
		opHTTP:      handler,
		log:         opts.Log,
		counts:      make(map[string]int),
		adminSecret: opts.AdminSecret,
		limiter:     adminLimiter{limit: opts.AdminRateLimit},
	}, nil
}

// opServer is op's LegacyServer with the sandbox's policy on top. Every method
// delegates the protocol work to op; the overrides only refuse what the sandbox does
// not allow, pass the "audience" parameter on, or correct what op cannot be
// configured to do.
type opServer struct {
	*op.LegacyServer
}

// discoveryDocument is op's metadata plus the RFC 9207 flag, which op's type lacks.
type discoveryDocument struct {
	*oidc.DiscoveryConfiguration
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// Discovery serves op's document, corrected where op states more than the sandbox
// does: op always lists the implicit response types and grant, and the JWT bearer
// grant, but the demo clients are code-only and have no keys; and it leaves the
// response modes at their default although the sandbox answers only in the query.
func (s *opServer) Discovery(ctx context.Context, r *op.Request[struct{}]) (*op.Response, error) {
	resp, err := s.LegacyServer.Discovery(ctx, r)
	if err != nil {
		return nil, err
	}
	doc, ok := resp.Data.(*oidc.DiscoveryConfiguration)
	if !ok {
		return nil, fmt.Errorf("sandbox: unexpected discovery document %T", resp.Data)
	}
	doc.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	doc.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	doc.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeClientCredentials, oidc.GrantTypeRefreshToken}
	// Signing algorithms for private_key_jwt, which no endpoint here accepts.
	doc.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	doc.RevocationEndpointAuthSigningAlgValuesSupported = nil
	resp.Data = &discoveryDocument{DiscoveryConfiguration: doc, AuthorizationResponseIssParameterSupported: true}
	return resp, nil
}

// Authorize enforces what op leaves to the host before op stores the request and
// sends the browser to the login URL. Errors go back to the client's redirect URI,
// which op has validated by now (RFC 6749 §4.1.2.1).
func (s *opServer) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	aud, err := checkAuthorization(r)
	if err != nil {
		// The error goes in the query, where the iss parameter is added (RFC 9207).
		r.Data.ResponseMode = ""
		p := s.Provider()
		return op.TryErrorRedirect(ctx, r.Data, err, p.Encoder(), p.Logger())
	}
	return s.LegacyServer.Authorize(withAudience(ctx, aud), r)
}

func checkAuthorization(r *op.ClientRequest[oidc.AuthRequest]) ([]string, error) {
	req := r.Data
	// PKCE with S256 for every client, confidential ones included (RFC 9700 §2.1.1);
	// op only requires it of public clients and would accept "plain".
	if req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge is required")
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	// RFC 9207 §2 puts iss in the query; a form_post or fragment response would need
	// it elsewhere, so only the query response mode is offered.
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode %q is not supported", req.ResponseMode)
	}
	// op silently drops scopes the client may not have; refuse them instead
	// (RFC 6749 §4.1.2.1), as the raw parameter shows what was asked for.
	for _, scope := range strings.Fields(r.Form.Get("scope")) {
		if !r.Client.IsScopeAllowed(scope) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for this client", scope)
		}
	}
	return requestedAudience(r.Client, r.Form["audience"])
}

// requestedAudience validates the "audience" parameter (RFC 8693 §2.1 names it;
// Auth0 and Ory take it on authorization and client credentials requests too).
func requestedAudience(c op.Client, values []string) ([]string, error) {
	var aud []string
	for _, v := range values {
		aud = append(aud, strings.Fields(v)...)
	}
	oc, ok := c.(*opClient)
	for _, a := range aud {
		if !ok || !oc.allowsAudience(a) {
			return nil, oidc.ErrInvalidTarget().WithDescription("audience %q is not allowed for this client", a)
		}
	}
	return slices.Compact(aud), nil
}

// CodeExchange requires the code_verifier of every client: each code was issued
// with a challenge, and op checks the verifier only when it is sent or the client is
// public, so a confidential client could otherwise leave it out (RFC 7636 §4.5,
// RFC 9700 §2.1.1).
func (s *opServer) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	if r.Data.CodeVerifier == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_verifier is required")
	}
	resp, err := s.LegacyServer.CodeExchange(ctx, r)
	return idTokenOnlyForOpenID(resp), err
}

// RefreshToken is op's, with the ID token dropped as in CodeExchange.
func (s *opServer) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	resp, err := s.LegacyServer.RefreshToken(ctx, r)
	return idTokenOnlyForOpenID(resp), err
}

// idTokenOnlyForOpenID removes the ID token op mints for every code and refresh
// response: without the openid scope the request is plain OAuth 2.0 and has no ID
// token (OpenID Connect Core §3.1.2.1).
func idTokenOnlyForOpenID(resp *op.Response) *op.Response {
	if resp == nil {
		return nil
	}
	if tr, ok := resp.Data.(*oidc.AccessTokenResponse); ok && !slices.Contains(tr.Scope, oidc.ScopeOpenID) {
		tr.IDToken = ""
	}
	return resp
}

// ClientCredentialsExchange passes the validated "audience" parameter to the storage.
func (s *opServer) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	aud, err := requestedAudience(r.Client, r.Form["audience"])
	if err != nil {
		return nil, err
	}
	return s.LegacyServer.ClientCredentialsExchange(withAudience(ctx, aud), r)
}

// UserInfo answers token failures as RFC 6750 §3.1 says: 401 invalid_token for a
// token that is not an active access token, 403 insufficient_scope for one without
// openid. op answers 401 access_denied for a token it cannot read and 403 for
// anything the storage refuses.
func (s *opServer) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	resp, err := s.LegacyServer.UserInfo(ctx, r)
	if err == nil {
		return resp, nil
	}
	var e *oidc.Error
	if !errors.As(err, &e) {
		return nil, err
	}
	switch e.ErrorType {
	case errInsufficientScope().ErrorType:
		return nil, op.NewStatusError(errInsufficientScope(), http.StatusForbidden)
	case errInvalidToken().ErrorType, oidc.AccessDenied:
		return nil, op.NewStatusError(errInvalidToken(), http.StatusUnauthorized)
	default:
		return nil, err
	}
}
