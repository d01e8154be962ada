package provider

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/oauth"
)

// Admin authentication schemes.
const (
	AuthNone              = "none"               // Hydra's open-source admin port is protected by the network
	AuthBearer            = "bearer"             // a ready token (Ory Network PAT, Okta OAuth token)
	AuthSSWS              = "ssws"               // Okta API token: "Authorization: SSWS <token>"
	AuthBasic             = "basic"              // Cisco UCM AXL user
	AuthClientCredentials = "client_credentials" // Keycloak, Auth0, Oracle: an admin client's token
)

// AdminAuth authenticates admin API calls. It is separate from the
// profile's client credentials: the admin identity usually differs from
// the application whose tokens are being managed.
type AdminAuth struct {
	Scheme string
	// Secret is the bearer or SSWS token, the Basic password, or the admin
	// client's secret. Never printed.
	Secret string
	User   string
	// Client credentials settings.
	ClientID, TokenURL, Scope, Audience string
	// ClientAuthMethod is client_secret_basic or client_secret_post; empty
	// means client_secret_basic unless the adapter sets its vendor's default
	// (Auth0: client_secret_post).
	ClientAuthMethod string
	HTTP             *httpx.Client
	Now              func() time.Time
	// Load, when set, fetches Secret the first time a request needs it,
	// so that work sending nothing (a dry run, a plan) never opens the
	// credential store or asks the keychain.
	Load func(ctx context.Context) (string, error)
	// TokenSource gives the bearer of scheme token_source: a token the
	// adapter obtains its own way (a vendor library's JWT bearer flow).
	TokenSource func(ctx context.Context) (string, error)

	mu      sync.Mutex
	token   string
	expires time.Time

	loadMu sync.Mutex
	loaded bool
}

// SecretValue returns the secret, loading it on first use. A failed load
// is not remembered: the keychain may answer the next time.
func (a *AdminAuth) SecretValue(ctx context.Context) (string, error) {
	a.loadMu.Lock()
	defer a.loadMu.Unlock()
	if a.Load != nil && !a.loaded {
		s, err := a.Load(ctx)
		if err != nil {
			return "", err
		}
		a.Secret, a.loaded = s, true
	}
	return a.Secret, nil
}

// Apply adds the credential to a request and lists the secrets the debug
// trace must blank.
func (a *AdminAuth) Apply(ctx context.Context, req *httpx.Request) error {
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if a.Scheme != AuthNone && a.Scheme != "" {
		if _, err := a.SecretValue(ctx); err != nil {
			return err
		}
	}
	switch a.Scheme {
	case AuthNone, "":
		return nil
	case AuthBearer:
		if a.Secret == "" {
			return a.missing()
		}
		req.Header.Set("Authorization", "Bearer "+a.Secret)
		req.Secrets = append(req.Secrets, a.Secret)
	case AuthSSWS:
		if a.Secret == "" {
			return a.missing()
		}
		req.Header.Set("Authorization", "SSWS "+a.Secret)
		req.Secrets = append(req.Secrets, a.Secret)
	case AuthBasic:
		if a.User == "" || a.Secret == "" {
			return a.missing()
		}
		req.BasicUser, req.BasicPassword = a.User, a.Secret
	case AuthTokenSource:
		return a.applyTokenSource(ctx, req)
	case AuthClientCredentials:
		tok, err := a.bearer(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Secrets = append(req.Secrets, tok)
	default:
		return errs.New(errs.KindUsage, "unknown admin auth scheme %q: use none, bearer, ssws, basic or client_credentials", a.Scheme)
	}
	return nil
}

func (a *AdminAuth) missing() error {
	// A setting to supply, like a missing client secret (exit 2).
	return errs.New(errs.KindUsage, "no admin credential for %s authentication: set IDPCTL_ADMIN_SECRET or IDPCTL_ADMIN_SECRET_FILE, or store one with 'idpctl profile add NAME --overwrite --admin-secret-stdin'", a.Scheme)
}

// Invalidate drops a cached admin token after the API answered 401, so the
// next call fetches a new one.
func (a *AdminAuth) Invalidate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.token = ""
}

// bearer returns a cached admin token or runs client credentials. Only one
// goroutine fetches at a time, so a bulk run asks once.
func (a *AdminAuth) bearer(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	if a.token != "" && (a.expires.IsZero() || a.expires.Sub(now) > 30*time.Second) {
		return a.token, nil
	}
	if a.ClientID == "" || a.Secret == "" || a.TokenURL == "" {
		return "", errs.New(errs.KindUsage, "admin client credentials need admin.client_id, admin.token_url and the admin secret (IDPCTL_ADMIN_SECRET, IDPCTL_ADMIN_SECRET_FILE or the credential store)")
	}
	var auth oauth.ClientAuth = oauth.SecretBasic{Secret: a.Secret}
	switch a.ClientAuthMethod {
	case oauth.AuthSecretPost:
		auth = oauth.SecretPost{Secret: a.Secret}
	case oauth.AuthPrivateJWT:
		signer, err := certificateSigner(a.Secret)
		if err != nil {
			return "", err
		}
		auth = oauth.Assertion{AuthMethod: oauth.AuthPrivateJWT, Signer: signer}
	}
	c := &oauth.Client{HTTP: a.HTTP, Metadata: &oauth.Metadata{TokenEndpoint: a.TokenURL}, ClientID: a.ClientID, Auth: auth, Now: a.Now}
	opts := oauth.TokenOptions{Audience: a.Audience}
	if a.Scope != "" {
		opts.Scopes = strings.Fields(a.Scope)
	}
	t, err := c.ClientCredentials(ctx, opts)
	if err != nil {
		return "", errs.Wrap(errs.KindOf(err), errAdminToken{err})
	}
	a.token, a.expires = t.AccessToken, t.ExpiresAt
	return a.token, nil
}

type errAdminToken struct{ err error }

func (e errAdminToken) Error() string { return "getting the admin token: " + e.err.Error() }
func (e errAdminToken) Unwrap() error { return e.err }

// assertionLifetime is how long an admin client assertion is valid: long
// enough for clock skew, short enough to be useless when replayed.
const assertionLifetime = 2 * time.Minute

type keySigner struct{ s *jose.Signer }

func (k keySigner) ClientAssertion(clientID, audience string, now time.Time) (string, error) {
	return jose.ClientAssertion(k.s, clientID, audience, now, assertionLifetime)
}

// certificateSigner reads the admin credential of private_key_jwt: a PEM
// private key, with its certificate beside it when the IdP finds the key
// by certificate thumbprint (Microsoft's identity platform does). Errors
// never quote the key.
func certificateSigner(material string) (oauth.AssertionSigner, error) {
	s, err := jose.ParseSigningKey([]byte(material))
	if err != nil {
		return nil, errs.New(errs.KindUsage, "the admin credential for private_key_jwt must be a PEM private key (with its certificate): %v", err)
	}
	if strings.Contains(material, "CERTIFICATE") {
		if s, err = jose.WithCertificate(s, []byte(material)); err != nil {
			return nil, errs.New(errs.KindUsage, "the admin credential for private_key_jwt: %v", err)
		}
	}
	return keySigner{s}, nil
}
