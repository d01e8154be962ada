package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
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

// pathCallback is where op resumes an authorization request after the login.
const pathCallback = PathAuthorize + "/callback"

const realm = `realm="idpctl sandbox"`

// routes puts the few things op leaves to the host around op's handler: the login
// step, the RFC 8414 well-known path, and response headers the standards ask for.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathLogin, s.handleLogin)
	// The same document as OpenID Connect Discovery, from op (RFC 8414 §3).
	mux.Handle(PathOAuthMetadata, servePathAs(oidc.DiscoveryEndpoint, s.opHTTP))
	mux.Handle(PathAuthorize, onHeader(s.opHTTP, s.addIssuer))
	mux.Handle(pathCallback, onHeader(s.opHTTP, s.addIssuer))
	mux.Handle(PathToken, noStore(onHeader(s.opHTTP, basicChallenge)))
	mux.Handle(PathIntrospect, noStore(onHeader(s.opHTTP, basicChallenge)))
	mux.Handle(PathRevoke, onHeader(s.opHTTP, basicChallenge))
	mux.Handle(PathUserinfo, noStore(onHeader(s.opHTTP, bearerChallenge)))
	mux.Handle(PathAdmin+"/", s.adminRoutes())
	mux.Handle("/", s.opHTTP)
	return s.observe(mux)
}

// handleLogin is the login page of every demo client: op sends the browser here with
// the ID of the stored authorization request, and it approves the request for the
// demo user (or the known user named by ?user=) at once and sends the browser back
// to op.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	// The user picks who logs in with ?user= (FollowAuthorizationAs); the
	// demo user otherwise.
	user := r.URL.Query().Get("user")
	if user == "" {
		user = DemoSubject
	}
	if err := s.store.approve(id, user); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), s.issuer)
	http.Redirect(w, r, s.op.AuthCallbackURL()(ctx, id), http.StatusFound)
}

// addIssuer adds the iss parameter to authorization responses, successful or not,
// which op does not do (RFC 9207 §2). Only redirects to the client are authorization
// responses; the one to the login page is not.
func (s *Server) addIssuer(_ *http.Request, h http.Header, status int) {
	loc := h.Get("Location")
	if status < 300 || status >= 400 || loc == "" || strings.HasPrefix(loc, s.issuer+pathLogin+"?") {
		return
	}
	u, err := url.Parse(loc)
	if err != nil {
		return
	}
	q := u.Query()
	q.Set("iss", s.issuer)
	u.RawQuery = q.Encode()
	h.Set("Location", u.String())
}

// basicChallenge names the scheme a client failed to authenticate with, which
// RFC 6749 §5.2 requires with a 401 after HTTP Basic.
func basicChallenge(r *http.Request, h http.Header, status int) {
	if _, _, basic := r.BasicAuth(); basic && status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", "Basic "+realm)
	}
}

// bearerChallenge is RFC 6750 §3: no error code when the request carried no token.
func bearerChallenge(r *http.Request, h http.Header, status int) {
	switch {
	case status == http.StatusForbidden:
		h.Set("WWW-Authenticate", "Bearer "+realm+`, error="insufficient_scope", scope="openid"`)
	case status != http.StatusUnauthorized:
	case r.Header.Get("Authorization") == "" && !r.URL.Query().Has("access_token"):
		h.Set("WWW-Authenticate", "Bearer "+realm)
	default:
		h.Set("WWW-Authenticate", "Bearer "+realm+`, error="invalid_token"`)
	}
}

// noStore marks token-bearing responses uncacheable (RFC 6749 §5.1, RFC 7662 §4).
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		next.ServeHTTP(w, r)
	})
}

func servePathAs(path string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = path, ""
		next.ServeHTTP(w, r2)
	})
}

// onHeader calls hook just before the status line is written, when the handler's
// headers can still be changed.
func onHeader(next http.Handler, hook func(r *http.Request, h http.Header, status int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&headerHook{ResponseWriter: w, hook: func(h http.Header, status int) { hook(r, h, status) }}, r)
	})
}

type headerHook struct {
	http.ResponseWriter
	hook  func(h http.Header, status int)
	wrote bool
}

func (w *headerHook) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		w.hook(w.Header(), status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *headerHook) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
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

// Metadata returns the main fields of the document served at both well-known paths.
func (s *Server) Metadata() Metadata {
	ctx := op.ContextWithIssuer(context.Background(), s.issuer)
	var doc *discoveryDocument
	if resp, err := s.op.Discovery(ctx, &op.Request[struct{}]{}); err == nil {
		doc, _ = resp.Data.(*discoveryDocument)
	}
	if doc == nil {
		// Discovery fails only on a programming error; the issuer still holds.
		return Metadata{Issuer: s.issuer}
	}
	return Metadata{
		Issuer:                                     doc.Issuer,
		AuthorizationEndpoint:                      doc.AuthorizationEndpoint,
		TokenEndpoint:                              doc.TokenEndpoint,
		JWKSURI:                                    doc.JwksURI,
		UserinfoEndpoint:                           doc.UserinfoEndpoint,
		RevocationEndpoint:                         doc.RevocationEndpoint,
		IntrospectionEndpoint:                      doc.IntrospectionEndpoint,
		ScopesSupported:                            doc.ScopesSupported,
		ResponseTypesSupported:                     doc.ResponseTypesSupported,
		ResponseModesSupported:                     doc.ResponseModesSupported,
		GrantTypesSupported:                        strs(doc.GrantTypesSupported),
		TokenEndpointAuthMethodsSupported:          strs(doc.TokenEndpointAuthMethodsSupported),
		RevocationEndpointAuthMethodsSupported:     strs(doc.RevocationEndpointAuthMethodsSupported),
		IntrospectionEndpointAuthMethodsSupported:  strs(doc.IntrospectionEndpointAuthMethodsSupported),
		CodeChallengeMethodsSupported:              strs(doc.CodeChallengeMethodsSupported),
		SubjectTypesSupported:                      doc.SubjectTypesSupported,
		IDTokenSigningAlgValuesSupported:           doc.IDTokenSigningAlgValuesSupported,
		ClaimsSupported:                            doc.ClaimsSupported,
		AuthorizationResponseIssParameterSupported: doc.AuthorizationResponseIssParameterSupported,
	}
}

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
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
