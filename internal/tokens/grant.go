package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/ciassert"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/ui"
)

// Opener opens a URL in the person's browser.
type Opener interface {
	Open(url string) error
}

// OpenerFunc is an Opener made of a function.
type OpenerFunc func(url string) error

// Open calls f.
func (f OpenerFunc) Open(url string) error { return f(url) }

// Prompt is how a grant speaks to the person running it.
type Prompt interface {
	// Say shows a message (one or more lines) to the person. Anything in
	// it that came from the IdP has been sanitised already.
	Say(msg string)
	// Attended tells whether a person can be expected to see the messages
	// and act on them (a terminal on stderr).
	Attended() bool
}

// Secrets reads secret inputs (assertions, subject and actor tokens) from a
// file or, for "-", stdin, so they never appear on the command line.
type Secrets interface {
	ReadSecretFile(path, what string) (string, error)
}

// Clock is the time source of the grants: a device login polls on it.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// ClientFunc builds the OAuth client on first use, so that a grant that is
// never run costs no discovery.
type ClientFunc func(ctx context.Context) (*oauth.Client, error)

// CISourceFunc names a CI runtime's identity token source: a file or a
// named runtime, exactly one of them; flag prefixes the flags naming them.
type CISourceFunc func(hc *httpx.Client, file, source, audience, what, flag string) (ciassert.Source, error)

// Grants runs the grants of one profile.
type Grants struct {
	Profile *config.Resolved
	Client  ClientFunc
	// Store holds other profiles' access tokens, usable as subject tokens.
	Store    credstore.Store
	Opener   Opener
	Prompt   Prompt
	Secrets  Secrets
	Clock    Clock
	CISource CISourceFunc
}

// Bind gives svc the grant of g: none for the refresh flow, none but a
// hint when the flow needs a person and nobody can follow it, else this
// runner's.
func (r *Grants) Bind(svc *Service, g GrantOptions) {
	if g.Flow == FlowRefresh {
		return
	}
	if IsInteractive(g.Flow) && !r.Prompt.Attended() && !g.AllowInteractiveOnNoTTY {
		// Nobody can follow a browser or device prompt: say how to log in
		// rather than hang a CI job.
		svc.LoginHint = fmt.Sprintf("the %s flow needs a person: run 'idpctl login --profile %s' at a terminal first, or use a flow that needs none (--flow client-credentials, jwt-bearer or token-exchange)", g.Flow, r.Profile.Name)
		return
	}
	svc.Grant = func(ctx context.Context) (*oauth.Token, error) {
		c, err := r.Client(ctx)
		if err != nil {
			return nil, err
		}
		return r.RunGrant(ctx, c, g)
	}
}

// RunGrant runs the grant named by g.Flow.
func (r *Grants) RunGrant(ctx context.Context, c *oauth.Client, g GrantOptions) (*oauth.Token, error) {
	p := r.Profile
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
		sign, err := r.requestSigner(c)
		if err != nil {
			return nil, err
		}
		res, err := c.AuthorizationCode(ctx, oauth.AuthCodeOptions{
			TokenOptions: g.Options, RedirectURI: redirectURI, RedirectPort: g.RedirectPort,
			PAR: p.PAR, RequestObject: p.RequestObject, SignRequest: sign,
			Warn: r.Prompt.Say,
			Show: func(u string) error {
				if !g.NoBrowser {
					if err := r.Opener.Open(u); err == nil {
						r.Prompt.Say("Opened the browser to log in. If it did not open, visit:\n" + ui.SanitizeLine(u))
						return nil
					}
				}
				r.Prompt.Say("Open this URL in a browser to log in:\n" + ui.SanitizeLine(u))
				return nil
			},
		})
		if err != nil {
			return nil, err
		}
		if res.Token.IDToken != "" {
			if err := r.VerifyIDToken(ctx, c, res.Token.IDToken, res.Nonce); err != nil {
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
		r.Prompt.Say(shown.VerificationText())
		if !g.NoBrowser && d.VerificationURIComplete != "" && r.Prompt.Attended() {
			if err := BrowsableURL(d.VerificationURIComplete); err != nil {
				r.Prompt.Say(fmt.Sprintf("Not opening it in a browser: %s.", err))
			} else {
				_ = r.Opener.Open(d.VerificationURIComplete)
			}
		}
		r.Prompt.Say("Waiting for approval...")
		return c.PollDevice(ctx, d, r.Clock.Sleep)
	case FlowJWTBearer:
		assertion, err := r.userAssertion(c, g)
		if err != nil {
			return nil, err
		}
		return c.JWTBearer(ctx, assertion, g.Options)
	case FlowTokenExchange:
		subject, subjectType, err := r.subjectToken(ctx, c, g)
		if err != nil {
			return nil, err
		}
		req := oauth.ExchangeRequest{SubjectToken: subject, SubjectTokenType: subjectType, RequestedTokenType: TokenTypeURI(g.RequestedTokenType), TokenOptions: g.Options}
		if g.ActorTokenFile != "" {
			if req.ActorToken, err = r.readToken(ctx, g.ActorTokenFile, "", "actor"); err != nil {
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

// BrowsableURL says whether a URL from an IdP may be handed to the
// browser opener: https, or http on a loopback host (RFC 8252 §8.3). Any
// other scheme (file:, javascript:, a custom handler, an option-looking
// string) could make the opener run something other than a browser, and
// plain http elsewhere sends the user's login over cleartext.
func BrowsableURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("it is not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && httpx.IsLoopbackHost(u.Hostname()):
		return nil
	}
	return fmt.Errorf("it is neither https nor http on a loopback host (%s://%s)", ui.SanitizeLine(u.Scheme), ui.SanitizeLine(u.Host))
}

// requestObjectLifetime is short: the browser follows the request at once.
const requestObjectLifetime = 5 * time.Minute

// requestSigner signs RFC 9101 request objects with the client's private
// key, when the profile has one; nil otherwise.
func (r *Grants) requestSigner(c *oauth.Client) (oauth.RequestSigner, error) {
	p := r.Profile
	if p.PrivateKeyFile == "" {
		return nil, nil
	}
	signer, _, err := jose.LoadSigningKey(p.PrivateKeyFile)
	if err != nil {
		return nil, errs.Wrap(errs.KindUsage, err)
	}
	return func(params map[string]any) (string, error) {
		return jose.RequestObject(signer, p.ClientID, c.Metadata.Issuer, params, r.Clock.Now(), requestObjectLifetime)
	}, nil
}

// userAssertion reads a ready assertion, or signs one (RFC 7523 §3).
func (r *Grants) userAssertion(c *oauth.Client, g GrantOptions) (string, error) {
	if g.AssertionFile != "" {
		return r.Secrets.ReadSecretFile(g.AssertionFile, "assertion")
	}
	if g.AssertionKeyFile == "" || g.AssertionSubject == "" {
		return "", errs.New(errs.KindUsage, "the jwt-bearer flow needs --assertion-file, or --assertion-key-file with --assertion-subject")
	}
	signer, warning, err := jose.LoadSigningKey(g.AssertionKeyFile)
	if err != nil {
		return "", errs.Wrap(errs.KindUsage, err)
	}
	if warning != nil {
		r.Prompt.Say(fmt.Sprintf("warning: %s", warning))
	}
	iss := g.AssertionIssuer
	if iss == "" {
		iss = r.Profile.ClientID
	}
	aud := g.AssertionAudience
	if aud == "" {
		aud = c.Metadata.TokenEndpoint
	}
	return jose.UserAssertion(signer, iss, g.AssertionSubject, aud, nil, r.Clock.Now(), 5*time.Minute)
}

// readToken reads a token from a file, stdin ("-"), or another profile's
// cached access token, so it never has to be typed on the command line.
func (r *Grants) readToken(ctx context.Context, file, profile, what string) (string, error) {
	if profile != "" {
		var at credstore.AccessToken
		if err := credstore.LoadJSON(ctx, r.Store, profile, credstore.KindAccessToken, &at); err != nil {
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
	return r.Secrets.ReadSecretFile(file, what+" token")
}

// Short names of the RFC 8693 §3 token types, so a command line need not
// spell the URNs.
var tokenTypeNames = map[string]string{
	"access_token":  oauth.TokenTypeAccessToken,
	"refresh_token": oauth.TokenTypeRefreshToken,
	"id_token":      oauth.TokenTypeIDToken,
	"jwt":           oauth.TokenTypeJWT,
}

// TokenTypeURI expands a short token type name; a URI passes unchanged.
func TokenTypeURI(s string) string {
	if u, ok := tokenTypeNames[strings.TrimSpace(s)]; ok {
		return u
	}
	return s
}

// CIAudience is the audience to ask a CI runtime for: the one configured,
// else the issuer, which is what IdPs trusting GitHub's tokens expect when
// they do not name one of their own (Entra expects api://AzureADTokenExchange).
func CIAudience(aud string, p *config.Resolved, md *oauth.Metadata) string {
	switch {
	case aud != "":
		return aud
	case p.Issuer != "":
		return p.Issuer
	case md != nil && md.Issuer != "":
		return md.Issuer
	case md != nil:
		return md.TokenEndpoint
	}
	return ""
}

// subjectToken reads the subject token of a token exchange from a file,
// another profile, or a CI runtime. A CI identity token is an OIDC ID
// token, so that is the default type for a source; tokens typed id_token
// or jwt are checked like client assertions before they are sent.
func (r *Grants) subjectToken(ctx context.Context, c *oauth.Client, g GrantOptions) (token, tokenType string, err error) {
	tokenType = TokenTypeURI(g.SubjectTokenType)
	if g.SubjectTokenSource == "" {
		if token, err = r.readToken(ctx, g.SubjectTokenFile, g.SubjectTokenProfile, "subject"); err != nil {
			return "", "", err
		}
		if tokenType == oauth.TokenTypeIDToken || tokenType == oauth.TokenTypeJWT {
			if err := ciassert.Check(token, "the subject token", r.Clock.Now()); err != nil {
				return "", "", err
			}
		}
		return token, tokenType, nil
	}
	if g.SubjectTokenFile != "" || g.SubjectTokenProfile != "" {
		return "", "", errs.New(errs.KindUsage, "give one of --subject-token-file, --subject-token-profile and --subject-token-source")
	}
	src, err := r.CISource(c.HTTP, "", g.SubjectTokenSource, CIAudience(g.SubjectTokenAudience, r.Profile, c.Metadata), "subject token", "--subject-token")
	if err != nil {
		return "", "", err
	}
	if tokenType == "" {
		tokenType = oauth.TokenTypeIDToken
	}
	token, err = ciassert.Checked(ctx, src, r.Clock.Now())
	return token, tokenType, err
}
