// Package login implements `idpctl login`.
package login

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/tokens"
	"github.com/idpctl/idpctl/internal/ui"
)

// LoginOptions are the inputs of login.
type LoginOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Now     func() time.Time

	Device bool
	Scopes []string
	Grant  tokens.GrantOptions
	// AuthorizationDetails is the raw --authorization-details value.
	AuthorizationDetails string
}

// NewCmdLogin builds the command.
func NewCmdLogin(f *cli.Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{IO: f.IOStreams, Factory: f, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in through the browser (authorization code + PKCE) or a device code",
		Long: `Log in as a person and cache the tokens for later 'idpctl token get' calls.

By default the browser is opened on the IdP's login page; the answer comes
back to a listener on 127.0.0.1 with a port chosen by the OS (RFC 8252), and
the code is redeemed with its PKCE verifier (RFC 7636, S256). state, nonce
and the RFC 9207 iss parameter are checked. --no-browser prints the URL
instead. --device uses the device authorization grant (RFC 8628): enter the
shown code on another device.

To get a refresh token, most IdPs need the offline_access scope.`,
		Example: `  idpctl login --scope openid,offline_access
  idpctl login --device
  # IdPs that require an exactly registered redirect URI
  idpctl login --redirect-uri http://127.0.0.1:8400/callback`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return loginRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Device, "device", false, "use the device authorization grant (RFC 8628) instead of the browser redirect")
	cmd.Flags().StringSliceVar(&opts.Scopes, "scope", nil, "scopes to request, separated by spaces or commas, or repeated (default: the profile's)")
	cmd.Flags().StringVar(&opts.Grant.Options.Audience, "audience", "", "audience to request")
	cmd.Flags().StringSliceVar(&opts.Grant.Options.Resources, "resource", nil, "RFC 8707 resource indicator, repeatable")
	cmd.Flags().BoolVar(&opts.Grant.NoBrowser, "no-browser", false, "print the URL on stderr instead of opening a browser")
	cmd.Flags().IntVar(&opts.Grant.RedirectPort, "redirect-port", 0, "fixed port of the loopback redirect (default: chosen by the OS)")
	cmd.Flags().StringVar(&opts.Grant.RedirectURI, "redirect-uri", "", "exact loopback redirect URI registered at the IdP")
	cmd.Flags().BoolVar(&f.Flags.DPoP, "dpop", false, cli.DPoPFlagUsage)
	cmd.Flags().BoolVar(&f.Flags.PAR, "par", false, "push the authorization request to the IdP first (RFC 9126); automatic when the IdP requires it")
	cmd.Flags().BoolVar(&f.Flags.RequestObject, "request-object", false, "send the authorization request as a request object signed with the client's private key (RFC 9101); automatic when the IdP requires it")
	cmd.Flags().StringVar(&opts.AuthorizationDetails, "authorization-details", "", cli.AuthorizationDetailsFlagUsage)
	return cmd
}

func loginRun(ctx context.Context, opts *LoginOptions) error {
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	g := opts.Grant
	if g.Options.AuthorizationDetails, err = f.AuthorizationDetails(opts.AuthorizationDetails); err != nil {
		return err
	}
	g.Flow = tokens.FlowAuthCode
	if opts.Device {
		g.Flow = tokens.FlowDevice
	}
	// An explicit login may run without a terminal on stderr: the URL or
	// code is printed and a person elsewhere may act on it.
	g.AllowInteractiveOnNoTTY = true
	if g, err = tokens.PrepareGrant(p, g, opts.Scopes); err != nil {
		return err
	}
	svc, err := f.TokenService(ctx, p, g)
	if err != nil {
		return err
	}
	res, err := svc.Obtain(ctx, tokens.Request{Options: g.Options})
	if err != nil {
		return err
	}
	pr := ui.New(opts.IO.ErrOut, opts.IO.ColorEnabledStderr())
	pairs := []ui.Pair{{Key: "profile", Value: p.Name}}
	if !res.Token.ExpiresAt.IsZero() {
		pairs = append(pairs, ui.Pair{Key: "access token", Value: fmt.Sprintf("valid until %s", res.Token.ExpiresAt.Local().Format(time.RFC1123))})
	}
	if res.Refresh != nil {
		pairs = append(pairs, ui.Pair{Key: "refresh token", Value: "cached"})
	} else {
		pairs = append(pairs, ui.Pair{Key: "refresh token", Value: pr.Warning("none") + " (ask for offline_access to get one)"})
	}
	if res.Token.Scope != "" {
		pairs = append(pairs, ui.Pair{Key: "scope", Value: res.Token.Scope})
	}
	pairs = append(pairs, ui.Pair{Key: "token type", Value: res.Token.TokenType})
	pr.Println(pr.Success("Logged in"))
	pr.KeyValues(pairs)
	if res.Token.AccessToken == "" {
		return errs.New(errs.KindLoginRequired, "the login returned no access token")
	}
	return nil
}
