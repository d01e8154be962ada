package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/tokens"
	"github.com/idpctl/idpctl/internal/ui"
)

// Flows, as typed on the command line.
const (
	FlowClientCredentials = "client-credentials"
	FlowAuthCode          = "auth-code"
	FlowDevice            = "device"
	FlowJWTBearer         = "jwt-bearer"
	FlowTokenExchange     = "token-exchange"
	FlowRefresh           = "refresh"
)

// Flows lists them for help and completion.
var Flows = []string{FlowClientCredentials, FlowAuthCode, FlowDevice, FlowJWTBearer, FlowTokenExchange, FlowRefresh}

// GrantOptions are the per-invocation settings of a grant.
type GrantOptions struct {
	Flow    string
	Options oauth.TokenOptions
	// Interactive flows.
	NoBrowser    bool
	RedirectPort int
	RedirectURI  string
	// jwt-bearer: a ready assertion, or what to sign one with.
	AssertionFile     string
	AssertionKeyFile  string
	AssertionSubject  string
	AssertionIssuer   string
	AssertionAudience string
	// token-exchange.
	SubjectTokenFile        string
	SubjectTokenProfile     string
	SubjectTokenType        string
	SubjectTokenSource      string // a CI runtime (github-actions), see ciassert
	SubjectTokenAudience    string
	ActorTokenFile          string
	ActorTokenType          string
	RequestedTokenType      string
	AllowInteractiveOnNoTTY bool
}

// DefaultFlow picks the flow when none is given: the profile's, else
// client credentials for a confidential client, else the browser login.
func DefaultFlow(p *config.Resolved, haveClientCredential bool) string {
	if p.Flow != "" {
		return p.Flow
	}
	if haveClientCredential || p.PrivateKeyFile != "" || p.ClientCertFile != "" || HasClientAssertion(p) {
		return FlowClientCredentials
	}
	return FlowAuthCode
}

// ValidateFlow refuses an unknown flow name.
func ValidateFlow(flow string) error {
	for _, f := range Flows {
		if f == flow {
			return nil
		}
	}
	return errs.New(errs.KindUsage, "unknown flow %q: choose one of %s", flow, strings.Join(Flows, ", "))
}

// IsInteractive tells whether a flow needs a person.
func IsInteractive(flow string) bool { return flow == FlowAuthCode || flow == FlowDevice }

// TokenService builds the token use cases for a profile. The OAuth client
// (and with it discovery and secrets) is built only if the network is needed.
func (f *Factory) TokenService(ctx context.Context, p *config.Resolved, g GrantOptions) (*tokens.Service, error) {
	if err := CheckClientConfig(p); err != nil {
		return nil, err
	}
	if err := MissingCredential(p, g.Flow); err != nil {
		return nil, err
	}
	store, err := f.Store()
	if err != nil {
		return nil, err
	}
	locker, err := f.Locker()
	if err != nil {
		return nil, err
	}
	var once sync.Once
	var client *oauth.Client
	var clientErr error
	getClient := func(ctx context.Context) (*oauth.Client, error) {
		once.Do(func() { client, clientErr = f.OAuthClient(ctx, p) })
		return client, clientErr
	}
	svc := &tokens.Service{
		Store: store, Locker: locker, Now: f.Now, Profile: p.Name,
		Issuer: CacheIssuer(p), ClientID: p.ClientID,
		Client: func(ctx context.Context) (tokens.Refresher, error) {
			c, err := getClient(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		LoginHint: fmt.Sprintf("run 'idpctl login --profile %s'", p.Name),
		DPoPKey: func(ctx context.Context) (string, error) {
			return f.DPoPThumbprint(ctx, p)
		},
		DPoPRequired: p.DPoP,
	}
	if g.Flow == FlowRefresh {
		return svc, nil
	}
	if IsInteractive(g.Flow) && !f.IOStreams.IsStderrTTY() && !g.AllowInteractiveOnNoTTY {
		// Nobody can follow a browser or device prompt: say how to log in
		// rather than hang a CI job.
		svc.LoginHint = fmt.Sprintf("the %s flow needs a person: run 'idpctl login --profile %s' at a terminal first, or pass --flow explicitly", g.Flow, p.Name)
		return svc, nil
	}
	svc.Grant = func(ctx context.Context) (*oauth.Token, error) {
		c, err := getClient(ctx)
		if err != nil {
			return nil, err
		}
		return f.RunGrant(ctx, c, p, g)
	}
	return svc, nil
}

// CachedTokens is the profile's token cache, for the use cases that only
// read or forget what is cached (revoking it): no grant, no lock.
func (f *Factory) CachedTokens(p *config.Resolved) (*tokens.Service, error) {
	store, err := f.Store()
	if err != nil {
		return nil, err
	}
	return &tokens.Service{Store: store, Now: f.Now, Profile: p.Name, Issuer: CacheIssuer(p), ClientID: p.ClientID}, nil
}

// CacheIssuer identifies the IdP for cached tokens: the issuer, or the
// token endpoint for profiles without discovery.
func CacheIssuer(p *config.Resolved) string {
	if p.Issuer != "" {
		return p.Issuer
	}
	return p.Endpoints.Token
}

// RunGrant runs the grant named by g.Flow.
func (f *Factory) RunGrant(ctx context.Context, c *oauth.Client, p *config.Resolved, g GrantOptions) (*oauth.Token, error) {
	errOut := f.IOStreams.ErrOut
	switch g.Flow {
	case FlowClientCredentials:
		if err := checkGrantCredential(c, p, g.Flow); err != nil {
			return nil, err
		}
		return c.ClientCredentials(ctx, g.Options)
	case FlowAuthCode:
		redirectURI := g.RedirectURI
		if redirectURI == "" {
			redirectURI = p.RedirectURI
		}
		sign, err := f.requestSigner(c, p)
		if err != nil {
			return nil, err
		}
		res, err := c.AuthorizationCode(ctx, oauth.AuthCodeOptions{
			TokenOptions: g.Options, RedirectURI: redirectURI, RedirectPort: g.RedirectPort,
			PAR: p.PAR, RequestObject: p.RequestObject, SignRequest: sign,
			Warn: func(msg string) { fmt.Fprintln(errOut, msg) },
			Show: func(u string) error {
				if !g.NoBrowser {
					if err := f.Browser(u); err == nil {
						fmt.Fprintf(errOut, "Opened the browser to log in. If it did not open, visit:\n%s\n", ui.SanitizeLine(u))
						return nil
					}
				}
				fmt.Fprintf(errOut, "Open this URL in a browser to log in:\n%s\n", ui.SanitizeLine(u))
				return nil
			},
		})
		if err != nil {
			return nil, err
		}
		if res.Token.IDToken != "" {
			if err := f.verifyIDToken(ctx, c, res.Token.IDToken, res.Nonce); err != nil {
				return nil, err
			}
		}
		return res.Token, nil
	case FlowDevice:
		d, err := c.StartDevice(ctx, g.Options)
		if err != nil {
			return nil, err
		}
		// Every value here comes from the IdP: shown escaped, each on
		// its own line.
		shown := *d
		shown.VerificationURI = ui.SanitizeLine(d.VerificationURI)
		shown.VerificationURIComplete = ui.SanitizeLine(d.VerificationURIComplete)
		shown.UserCode = ui.SanitizeLine(d.UserCode)
		fmt.Fprintln(errOut, shown.VerificationText())
		if !g.NoBrowser && d.VerificationURIComplete != "" && f.IOStreams.IsStderrTTY() {
			if err := BrowsableURL(d.VerificationURIComplete); err != nil {
				fmt.Fprintf(errOut, "Not opening it in a browser: %s.\n", err)
			} else {
				_ = f.Browser(d.VerificationURIComplete)
			}
		}
		fmt.Fprintln(errOut, "Waiting for approval...")
		return c.PollDevice(ctx, d, sleepCtx)
	case FlowJWTBearer:
		assertion, err := f.userAssertion(c, p, g)
		if err != nil {
			return nil, err
		}
		return c.JWTBearer(ctx, assertion, g.Options)
	case FlowTokenExchange:
		subject, subjectType, err := f.subjectToken(ctx, c, p, g)
		if err != nil {
			return nil, err
		}
		req := oauth.ExchangeRequest{SubjectToken: subject, SubjectTokenType: subjectType, RequestedTokenType: TokenTypeURI(g.RequestedTokenType), TokenOptions: g.Options}
		if g.ActorTokenFile != "" {
			if req.ActorToken, err = f.readToken(ctx, g.ActorTokenFile, "", "actor"); err != nil {
				return nil, err
			}
			req.ActorTokenType = TokenTypeURI(g.ActorTokenType)
			if req.ActorTokenType == "" {
				req.ActorTokenType = oauth.TokenTypeAccessToken
			}
		}
		return c.TokenExchange(ctx, req)
	default:
		return nil, ValidateFlow(g.Flow)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// requestObjectLifetime is short: the browser follows the request at once.
const requestObjectLifetime = 5 * time.Minute

// requestSigner signs RFC 9101 request objects with the client's private
// key, when the profile has one; nil otherwise.
func (f *Factory) requestSigner(c *oauth.Client, p *config.Resolved) (oauth.RequestSigner, error) {
	if p.PrivateKeyFile == "" {
		return nil, nil
	}
	signer, _, err := jose.LoadSigningKey(p.PrivateKeyFile)
	if err != nil {
		return nil, errs.Wrap(errs.KindUsage, err)
	}
	return func(params map[string]any) (string, error) {
		return jose.RequestObject(signer, p.ClientID, c.Metadata.Issuer, params, f.Now(), requestObjectLifetime)
	}, nil
}

// userAssertion reads a ready assertion, or signs one (RFC 7523 §3).
func (f *Factory) userAssertion(c *oauth.Client, p *config.Resolved, g GrantOptions) (string, error) {
	if g.AssertionFile != "" {
		return f.readSecretFile(g.AssertionFile, "assertion")
	}
	if g.AssertionKeyFile == "" || g.AssertionSubject == "" {
		return "", errs.New(errs.KindUsage, "the jwt-bearer flow needs --assertion-file, or --assertion-key-file with --assertion-subject")
	}
	signer, warning, err := jose.LoadSigningKey(g.AssertionKeyFile)
	if err != nil {
		return "", errs.Wrap(errs.KindUsage, err)
	}
	if warning != nil {
		fmt.Fprintf(f.IOStreams.ErrOut, "warning: %s\n", warning)
	}
	iss := g.AssertionIssuer
	if iss == "" {
		iss = p.ClientID
	}
	aud := g.AssertionAudience
	if aud == "" {
		aud = c.Metadata.TokenEndpoint
	}
	return jose.UserAssertion(signer, iss, g.AssertionSubject, aud, nil, f.Now(), 5*time.Minute)
}

// readToken reads a token from a file, stdin ("-"), or another profile's
// cached access token, so it never has to be typed on the command line.
func (f *Factory) readToken(ctx context.Context, file, profile, what string) (string, error) {
	if profile != "" {
		store, err := f.Store()
		if err != nil {
			return "", err
		}
		var at credstore.AccessToken
		if err := credstore.LoadJSON(ctx, store, profile, credstore.KindAccessToken, &at); err != nil {
			if errors.Is(err, credstore.ErrNotFound) {
				return "", errs.New(errs.KindLoginRequired, "profile %q has no cached access token to use as the %s token", profile, what)
			}
			return "", err
		}
		return at.AccessToken, nil
	}
	if file == "" {
		return "", errs.New(errs.KindUsage, "token exchange needs the %s token: --%s-token-file FILE (or - for stdin) or --%s-token-profile NAME", what, what, what)
	}
	return f.readSecretFile(file, what+" token")
}

func (f *Factory) readSecretFile(path, what string) (string, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = f.IOStreams.ReadAllIn(1 << 20)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return "", errs.New(errs.KindUsage, "reading the %s: %w", what, err)
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "", errs.New(errs.KindUsage, "the %s is empty", what)
	}
	return s, nil
}

// verifyIDToken checks the ID token of a login (OIDC Core §3.1.3.7).
// Without a JWKS the signature cannot be checked, but the claims still
// are: an ID token for another client, issuer or login, an expired one or
// an unsigned one (alg none) is refused all the same.
func (f *Factory) verifyIDToken(ctx context.Context, c *oauth.Client, idToken, nonce string) error {
	opts := jose.VerifyOptions{Issuer: c.Metadata.Issuer, Audience: c.ClientID, Nonce: nonce, Now: f.Now}
	if c.Metadata.JWKSURI == "" {
		if _, err := jose.CheckUnverified(idToken, opts); err != nil {
			return errs.New(errs.KindRefused, "the ID token from the login does not hold: %w", err)
		}
		fmt.Fprintln(f.IOStreams.ErrOut, "warning: the IdP publishes no JWKS, so the ID token's signature could not be verified; its iss, aud, exp and nonce were checked")
		return nil
	}
	_, err := jose.Verify(ctx, idToken, f.JWKS(c.HTTP, c.Metadata.JWKSURI), opts)
	if err != nil {
		return errs.New(errs.KindRefused, "the ID token from the login does not verify: %w", err)
	}
	return nil
}

// JWKS returns a key source that fetches the IdP's JWKS, caching it for the
// process and refetching when asked (an unknown kid after key rotation).
func (f *Factory) JWKS(hc *httpx.Client, uri string) jose.KeySource {
	var mu sync.Mutex
	var cached *gojose.JSONWebKeySet
	return func(ctx context.Context, force bool) (*gojose.JSONWebKeySet, error) {
		mu.Lock()
		defer mu.Unlock()
		if cached != nil && !force {
			return cached, nil
		}
		resp, err := hc.Fetch(ctx, uri)
		if err != nil {
			return nil, fmt.Errorf("fetching the JWKS: %w", err)
		}
		if !httpx.IsJSON(resp.Body) {
			// Name what came back (an HTML page, a truncated body).
			if err := httpx.DecodeJSON(resp, new(map[string]any)); err != nil {
				return nil, fmt.Errorf("fetching the JWKS: %w", err)
			}
		}
		set, _, err := jose.ParseJWKS(resp.Body)
		if err != nil {
			return nil, errs.Wrap(errs.KindNetwork, fmt.Errorf("reading the JWKS from %s: %w", httpx.Host(uri), err))
		}
		cached = set
		return set, nil
	}
}
