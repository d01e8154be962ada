package cli

import (
	"context"
	"time"

	"github.com/idpctl/idpctl/internal/ciassert"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/tokens"
)

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
	src, err := f.CITokenSource(hc, p.ClientAssertionFile, p.ClientAssertionSource, tokens.CIAudience(p.ClientAssertionAudience, p, md), "client assertion", "--client-assertion")
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
