package cli

import (
	"context"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/ciassert"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/oauth"
)

// HasClientAssertion tells whether the profile authenticates the client
// with a third-party JWT instead of a secret or key of its own.
func HasClientAssertion(p *config.Resolved) bool {
	return p.ClientAssertionFile != "" || p.ClientAssertionSource != ""
}

// federatedAuth builds RFC 7523 §2.2 client authentication from the
// profile's client assertion file or source.
func (f *Factory) federatedAuth(ctx context.Context, p *config.Resolved, hc *httpx.Client, md *oauth.Metadata) (oauth.ClientAuth, error) {
	switch p.ClientAuthMethod {
	case "", oauth.AuthPrivateJWT, oauth.AuthFederatedAssertion:
	default:
		return nil, errs.New(errs.KindUsage, "a client assertion (--client-assertion-file or --client-assertion-source) replaces client authentication %s: drop one of them", p.ClientAuthMethod)
	}
	if p.PrivateKeyFile != "" {
		return nil, errs.New(errs.KindUsage, "give either a client assertion (--client-assertion-file or --client-assertion-source) or --private-key-file, not both")
	}
	src, err := f.CITokenSource(hc, p.ClientAssertionFile, p.ClientAssertionSource, audienceOr(p.ClientAssertionAudience, p, md), "client assertion", "--client-assertion")
	if err != nil {
		return nil, err
	}
	return oauth.FederatedAssertion{
		Ctx: ctx,
		Next: func(ctx context.Context, now time.Time) (string, error) {
			return ciassert.Checked(ctx, src, now)
		},
	}, nil
}

// audienceOr is the audience to ask a CI runtime for: the one configured,
// else the issuer, which is what IdPs trusting GitHub's tokens expect when
// they do not name one of their own (Entra expects api://AzureADTokenExchange).
func audienceOr(aud string, p *config.Resolved, md *oauth.Metadata) string {
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

// CITokenSource is a file or a named runtime, exactly one of them. flag is
// the prefix of the flags naming them, for messages.
func (f *Factory) CITokenSource(hc *httpx.Client, file, source, audience, what, flag string) (ciassert.Source, error) {
	switch {
	case file != "" && source != "":
		return nil, errs.New(errs.KindUsage, "give either %s-file or %s-source, not both", flag, flag)
	case file != "":
		return ciassert.File{Path: file, What: what}, nil
	case source != "":
		if err := ciassert.ValidateSource(source, flag+"-source"); err != nil {
			return nil, err
		}
		return ciassert.GitHubActions{HTTP: hc, Getenv: f.Getenv, Audience: audience, What: what}, nil
	}
	return nil, errs.New(errs.KindUsage, "no %s: give %s-file or %s-source", what, flag, flag)
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

// subjectToken reads the subject token of a token exchange from a file,
// another profile, or a CI runtime. A CI identity token is an OIDC ID
// token, so that is the default type for a source; tokens typed id_token
// or jwt are checked like client assertions before they are sent.
func (f *Factory) subjectToken(ctx context.Context, c *oauth.Client, p *config.Resolved, g GrantOptions) (token, tokenType string, err error) {
	tokenType = TokenTypeURI(g.SubjectTokenType)
	if g.SubjectTokenSource == "" {
		if token, err = f.readToken(ctx, g.SubjectTokenFile, g.SubjectTokenProfile, "subject"); err != nil {
			return "", "", err
		}
		if tokenType == oauth.TokenTypeIDToken || tokenType == oauth.TokenTypeJWT {
			if err := ciassert.Check(token, "the subject token", f.Now()); err != nil {
				return "", "", err
			}
		}
		return token, tokenType, nil
	}
	if g.SubjectTokenFile != "" || g.SubjectTokenProfile != "" {
		return "", "", errs.New(errs.KindUsage, "give one of --subject-token-file, --subject-token-profile and --subject-token-source")
	}
	src, err := f.CITokenSource(c.HTTP, "", g.SubjectTokenSource, audienceOr(g.SubjectTokenAudience, p, c.Metadata), "subject token", "--subject-token")
	if err != nil {
		return "", "", err
	}
	if tokenType == "" {
		tokenType = oauth.TokenTypeIDToken
	}
	token, err = ciassert.Checked(ctx, src, f.Now())
	return token, tokenType, err
}
