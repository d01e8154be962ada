package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// Endpoint paths, below the issuer.
const (
	PathOpenIDConfiguration = "/.well-known/openid-configuration"
	PathOAuthMetadata       = "/.well-known/oauth-authorization-server"
	PathJWKS                = "/jwks"
	PathAuthorize           = "/authorize"
	PathToken               = "/token"
	PathRevoke              = "/revoke"
	PathIntrospect          = "/introspect"
	PathUserinfo            = "/userinfo"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathOpenIDConfiguration, s.handleMetadata)
	mux.HandleFunc("GET "+PathOAuthMetadata, s.handleMetadata)
	mux.HandleFunc("GET "+PathJWKS, s.handleJWKS)
	// fosite checks the method itself on these and answers in OAuth error form.
	mux.HandleFunc(PathAuthorize, s.handleAuthorize)
	mux.HandleFunc(PathToken, s.handleToken)
	mux.HandleFunc(PathRevoke, s.handleRevoke)
	mux.HandleFunc(PathIntrospect, s.handleIntrospect)
	mux.HandleFunc(PathUserinfo, s.handleUserinfo)
	return s.observe(mux)
}

// Metadata is the authorization server metadata document (RFC 8414 §2), which is also
// the OpenID Connect Discovery 1.0 §3 document.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// Metadata returns the document served at both well-known paths.
func (s *Server) Metadata() Metadata {
	clientAuth := []string{"client_secret_basic", "client_secret_post", "none"}
	return Metadata{
		Issuer:                 s.issuer,
		AuthorizationEndpoint:  s.issuer + PathAuthorize,
		TokenEndpoint:          s.issuer + PathToken,
		JWKSURI:                s.issuer + PathJWKS,
		UserinfoEndpoint:       s.issuer + PathUserinfo,
		RevocationEndpoint:     s.issuer + PathRevoke,
		IntrospectionEndpoint:  s.issuer + PathIntrospect,
		ScopesSupported:        scopesSupported(),
		ResponseTypesSupported: []string{"code"},
		// The demo clients are fosite.DefaultClients, which offer no response_mode.
		ResponseModesSupported:                 []string{"query"},
		GrantTypesSupported:                    []string{"authorization_code", "client_credentials", "refresh_token"},
		TokenEndpointAuthMethodsSupported:      clientAuth,
		RevocationEndpointAuthMethodsSupported: clientAuth,
		// fosite's introspection endpoint takes HTTP Basic credentials or a bearer
		// access token, never credentials in the body.
		IntrospectionEndpointAuthMethodsSupported: []string{"client_secret_basic"},
		CodeChallengeMethodsSupported:             []string{"S256"},
		SubjectTypesSupported:                     []string{"public"},
		IDTokenSigningAlgValuesSupported:          []string{signingAlg},
		ClaimsSupported: []string{
			"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash",
			"name", "preferred_username",
		},
		AuthorizationResponseIssParameterSupported: true,
	}
}

func (s *Server) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Metadata())
}

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.jwks)
}

// handleAuthorize approves every valid request for the demo user, without a login or
// consent page: fosite validates client, redirect URI, response type, scopes, audience
// and PKCE, and everything it accepts is granted.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.writeAuthorizeError(ctx, w, ar, err)
		return
	}
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	for _, aud := range ar.GetRequestedAudience() {
		ar.GrantAudience(aud)
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, newSession(DemoSubject, ar.GetClient().GetID()))
	if err != nil {
		s.writeAuthorizeError(ctx, w, ar, err)
		return
	}
	// RFC 9207 §2: name the issuer in the response so the client can detect mix-up.
	resp.AddParameter("iss", s.issuer)
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// writeAuthorizeError adds iss to error redirects too (RFC 9207 §2), which fosite's
// WriteAuthorizeError has no parameter for.
func (s *Server) writeAuthorizeError(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	s.provider.WriteAuthorizeError(ctx, &issRedirectWriter{ResponseWriter: w, issuer: s.issuer}, ar, err)
}

// issRedirectWriter appends the iss parameter to the Location of a redirect just before
// the status line is written. Errors that are not redirected (an invalid client or
// redirect URI, RFC 6749 §4.1.2.1) pass through untouched.
type issRedirectWriter struct {
	http.ResponseWriter
	issuer string
}

func (w *issRedirectWriter) WriteHeader(status int) {
	if loc := w.Header().Get("Location"); loc != "" && status >= 300 && status < 400 {
		if u, err := url.Parse(loc); err == nil {
			q := u.Query()
			q.Set("iss", w.issuer)
			u.RawQuery = q.Encode()
			w.Header().Set("Location", u.String())
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// fosite's memory store has no transactions: two requests presenting the same
	// refresh token at once could both pass the "still active" check and both rotate.
	// One at a time, the second is seen as a reuse and the family revoked
	// (RFC 9700 §4.14.2), which is what a client that races its refreshes must meet.
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	ar, err := s.provider.NewAccessRequest(ctx, r, newSession("", ""))
	if err != nil {
		s.writeTokenError(ctx, w, r, ar, err)
		return
	}
	sess, ok := ar.GetSession().(*session)
	if !ok {
		s.writeTokenError(ctx, w, r, ar, fosite.ErrServerError.WithDebugf("unexpected session type %T", ar.GetSession()))
		return
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		// No resource owner: the client is the subject (RFC 9068 §2.2). fosite checked
		// the requested scopes and audience against the client; granting is ours.
		id := ar.GetClient().GetID()
		sess.SetSubject(id)
		sess.AccessClaims.Subject = id
		sess.setClientID(id)
		for _, scope := range ar.GetRequestedScopes() {
			ar.GrantScope(scope)
		}
		for _, aud := range ar.GetRequestedAudience() {
			ar.GrantAudience(aud)
		}
	}
	// A refreshed session is a copy of the stored one and still holds the first access
	// token's iat, which fosite's JWT strategy keeps when set.
	sess.AccessClaims.IssuedAt = time.Time{}
	sess.AccessClaims.JTI = ""

	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.writeTokenError(ctx, w, r, ar, err)
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

func (s *Server) writeTokenError(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, err error) {
	// RFC 6749 §5.2: a 401 for invalid_client after HTTP Basic must carry a
	// WWW-Authenticate challenge for the scheme the client used.
	if errors.Is(err, fosite.ErrInvalidClient) {
		if _, _, basic := r.BasicAuth(); basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="idpctl sandbox"`)
		}
	}
	s.provider.WriteAccessError(ctx, w, ar, err)
}

// handleRevoke implements RFC 7009 through fosite: unknown tokens answer 200, and
// revoking a refresh token revokes the whole grant (its access token included).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := s.provider.NewRevocationRequest(ctx, r)
	s.provider.WriteRevocationResponse(ctx, w, err)
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ir, err := s.provider.NewIntrospectionRequest(ctx, r, newSession("", ""))
	if err != nil {
		s.provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.introspection(ir))
}

// introspection builds the RFC 7662 §2.2 response. It replaces fosite's
// WriteIntrospectionResponse, which reports the access token's exp even when the
// introspected token is a refresh token, and omits iss and token_type.
func (s *Server) introspection(ir fosite.IntrospectionResponder) map[string]any {
	if !ir.IsActive() {
		return map[string]any{"active": false}
	}
	ar := ir.GetAccessRequester()
	sess := ar.GetSession()
	use := ir.GetTokenUse()
	out := map[string]any{
		"active":    true,
		"iss":       s.issuer,
		"client_id": ar.GetClient().GetID(),
		// Not in RFC 7662; Ory Hydra's name for which kind of token this is.
		"token_use": string(use),
	}
	if use == fosite.AccessToken {
		out["token_type"] = "Bearer"
	}
	if exp := sess.GetExpiresAt(use); !exp.IsZero() {
		out["exp"] = exp.Unix()
	}
	if at := ar.GetRequestedAt(); !at.IsZero() {
		out["iat"] = at.Unix()
	}
	if scopes := ar.GetGrantedScopes(); len(scopes) > 0 {
		out["scope"] = strings.Join(scopes, " ")
	}
	if sub := sess.GetSubject(); sub != "" {
		out["sub"] = sub
	}
	if user := sess.GetUsername(); user != "" {
		out["username"] = user
	}
	if aud := ar.GetGrantedAudience(); len(aud) > 0 {
		out["aud"] = []string(aud)
	}
	return out
}

// handleUserinfo is the OpenID Connect Core §5.3 endpoint; errors follow RFC 6750 §3.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request"})
		return
	}
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="idpctl sandbox"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request"})
		return
	}
	use, ar, err := s.provider.IntrospectToken(r.Context(), token, fosite.AccessToken, newSession("", ""))
	// fosite falls back to refresh tokens when the access-token lookup fails.
	if err != nil || use != fosite.AccessToken {
		w.Header().Set("WWW-Authenticate", `Bearer realm="idpctl sandbox", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	scopes := ar.GetGrantedScopes()
	if !scopes.Has("openid") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="idpctl sandbox", error="insufficient_scope", scope="openid"`)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope"})
		return
	}
	sub := ar.GetSession().GetSubject()
	claims := map[string]any{"sub": sub}
	if scopes.Has("profile") {
		claims["preferred_username"] = sub
		claims["name"] = "Demo User"
	}
	writeJSON(w, http.StatusOK, claims)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// observe counts requests per path and writes the request log. Only method, escaped
// path and status are logged: query strings and bodies may hold codes and tokens.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.countMu.Lock()
		s.counts[r.URL.Path]++
		s.countMu.Unlock()

		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)

		if s.log != nil {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			s.logMu.Lock()
			_, _ = fmt.Fprintf(s.log, "%s %s %d\n", r.Method, r.URL.EscapedPath(), status)
			s.logMu.Unlock()
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}
