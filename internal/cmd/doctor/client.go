package doctor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/tokens"
)

// checkClient tries the profile's client the way its commands will use it,
// so that a wrong secret or a missing client id is not reported healthy:
// a client-credentials client asks for a token (nothing is cached); an
// interactive one has its login prerequisites checked, since a login needs
// a person.
func checkClient(ctx context.Context, f *cli.Factory, p *config.Resolved, add func(Check)) {
	const name = "client"
	if p.Issuer == "" && p.Endpoints.Token == "" {
		add(Check{Name: name, Status: "skip", Detail: "the profile has no issuer"})
		return
	}
	if p.ClientID == "" && p.Provider != "" && p.Provider != "generic" {
		// A profile kept for admin work has no client of its own; its
		// admin checks follow. Token commands would say what is missing.
		add(Check{Name: name, Status: "skip", Detail: "the profile has no client id: it is used for admin commands only (token commands need --client-id)"})
		return
	}
	if err := cli.CheckClientConfig(p); err != nil {
		add(Check{Name: name, Status: "fail", Detail: err.Error(), err: err})
		return
	}
	haveCred := p.ClientSecretFromEnv != "" || p.ClientSecretFile != "" || (p.ClientAuthMethod != "" && p.ClientAuthMethod != oauth.AuthNone)
	flow := tokens.DefaultFlow(p, haveCred)
	if err := cli.MissingCredential(p, flow); err != nil {
		add(Check{Name: name, Status: "fail", Detail: err.Error(), err: err})
		return
	}
	c, err := f.OAuthClient(ctx, p)
	if err != nil {
		if errs.Is(err, errs.KindNetwork) {
			add(Check{Name: name, Status: "skip", Detail: "the IdP could not be reached"})
			return
		}
		add(Check{Name: name, Status: "fail", Detail: err.Error(), err: err})
		return
	}
	method := c.Auth.Method()
	switch flow {
	case tokens.FlowClientCredentials:
		if method == oauth.AuthNone && p.ClientAuthMethod == "" {
			err := errs.New(errs.KindUsage, "the client-credentials flow needs a client credential, and client %s has none", p.ClientID)
			add(Check{Name: name, Status: "fail", Detail: err.Error(), err: err})
			return
		}
		tok, err := c.ClientCredentials(ctx, oauth.TokenOptions{Scopes: p.Scopes, Audience: p.Audience, Resources: p.Resources})
		var oe *oauth.Error
		if err != nil && p.Flow == "" && errors.As(err, &oe) && oe.Code != "invalid_client" {
			// The flow was only inferred from the secret: a confidential
			// client made for logins authenticates, then may not use this
			// grant. Only invalid_client says the credential is wrong.
			add(Check{Name: name, Status: "warn", Detail: fmt.Sprintf("%s (%s) was not refused as a client, but the IdP refused the client-credentials grant: %s; if this client is for logins, set the profile's flow (IDPCTL_FLOW=auth-code)", p.ClientID, method, err)})
			return
		}
		if err != nil {
			add(Check{Name: name, Status: "fail", Detail: err.Error(), err: err})
			return
		}
		detail := fmt.Sprintf("%s (%s) got a token with client credentials", p.ClientID, method)
		if !tok.ExpiresAt.IsZero() {
			detail += fmt.Sprintf(", valid for %s", tok.ExpiresAt.Sub(tok.ReceivedAt).Round(time.Second))
		}
		add(Check{Name: name, Status: "ok", Detail: detail + "; nothing was cached"})
	case tokens.FlowAuthCode, tokens.FlowDevice:
		endpoint, what := c.Metadata.AuthorizationEndpoint, "authorization endpoint"
		if flow == tokens.FlowDevice {
			endpoint, what = c.Metadata.DeviceAuthorizationEndpoint, "device authorization endpoint"
		}
		if endpoint == "" {
			err := errs.New(errs.KindUnsupported, "the %s flow needs the IdP's %s, and it publishes none", flow, what)
			add(Check{Name: name, Status: "fail", Detail: err.Error(), err: err})
			return
		}
		add(Check{Name: name, Status: "ok", Detail: fmt.Sprintf("%s (%s) has what a %s login needs (%s); the client itself is tried at 'idpctl login'", p.ClientID, method, flow, what)})
	default:
		add(Check{Name: name, Status: "ok", Detail: fmt.Sprintf("%s (%s) is configured for the %s flow; not tried, as it needs %s", p.ClientID, method, flow, needs(flow))})
	}
}

func needs(flow string) string {
	switch flow {
	case tokens.FlowJWTBearer:
		return "an assertion"
	case tokens.FlowTokenExchange:
		return "a subject token"
	default:
		return "a cached refresh token"
	}
}
