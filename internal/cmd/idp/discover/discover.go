// Package discover implements `idpctl idp discover`.
package discover

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/ui"
)

// DiscoverOptions are the inputs of idp discover.
type DiscoverOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Refresh bool
	Output  string
}

// NewCmdDiscover builds the command.
func NewCmdDiscover(f *cli.Factory, runF func(context.Context, *DiscoverOptions) error) *cobra.Command {
	opts := &DiscoverOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "discover",
		Short: "Summarise what the IdP offers, from its discovery metadata",
		Long: `Fetch the issuer's metadata (OpenID Connect Discovery, else RFC 8414), check
that it names the configured issuer exactly, and summarise it: endpoints,
grants, client authentication methods, PKCE, DPoP and RFC 9207 iss support.
-o json prints the document as the IdP published it.

Documents are cached for an hour (IDPCTL_DISCOVERY_TTL); --refresh fetches anew.`,
		Example: "  idpctl idp discover --issuer https://accounts.example.com\n  idpctl idp discover -o json | jq .grant_types_supported",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return discoverRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "ignore the cached document")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	return cmd
}

func discoverRun(ctx context.Context, opts *DiscoverOptions) error {
	if opts.Output != "text" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text or json", opts.Output)
	}
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	if p.Issuer == "" {
		return errs.New(errs.KindUsage, "no issuer: pass --issuer or set it in the profile")
	}
	if opts.Refresh {
		f.MetadataCache().Forget(p.Issuer)
	}
	md, err := f.Metadata(ctx, p)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		if len(md.Raw) > 0 {
			var v any
			if err := json.Unmarshal(md.Raw, &v); err == nil {
				enc := json.NewEncoder(opts.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
		}
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(md)
	}
	Summary(ui.New(opts.IO.Out, opts.IO.ColorEnabled()), md)
	return nil
}

// Summary prints the readable summary; the demo uses it too.
func Summary(pr *ui.Printer, md *oauth.Metadata) {
	yes := func(b bool) string {
		if b {
			return pr.Success("yes")
		}
		return pr.Dim("no")
	}
	list := func(l []string) string {
		if len(l) == 0 {
			return pr.Dim("not listed")
		}
		return strings.Join(l, ", ")
	}
	pr.Println(pr.Heading("Issuer") + "  " + md.Issuer)
	if md.Source != "" {
		pr.Println(pr.Dim("from " + md.Source))
	}
	pr.Println(pr.Heading("Endpoints"))
	var eps []ui.Pair
	for _, e := range []struct{ k, v string }{
		{"authorization", md.AuthorizationEndpoint}, {"token", md.TokenEndpoint},
		{"device authorization", md.DeviceAuthorizationEndpoint}, {"revocation", md.RevocationEndpoint},
		{"introspection", md.IntrospectionEndpoint}, {"jwks", md.JWKSURI}, {"userinfo", md.UserinfoEndpoint},
		{"pushed authorization", md.PushedAuthorizationRequestEndpoint}, {"end session", md.EndSessionEndpoint},
	} {
		if e.v != "" {
			eps = append(eps, ui.Pair{Key: e.k, Value: e.v})
		}
	}
	pr.KeyValues(eps)
	pr.Println(pr.Heading("Capabilities"))
	pkce := "not advertised (idpctl sends S256 anyway)"
	if oauth.Supports(md.CodeChallengeMethodsSupported, "S256") && len(md.CodeChallengeMethodsSupported) > 0 {
		pkce = pr.Success("S256")
	}
	pr.KeyValues([]ui.Pair{
		{Key: "grants", Value: list(md.GrantTypesSupported)},
		{Key: "client auth", Value: list(md.TokenEndpointAuthMethodsSupported)},
		{Key: "scopes", Value: list(md.ScopesSupported)},
		{Key: "PKCE", Value: pkce},
		{Key: "DPoP", Value: yes(len(md.DPoPSigningAlgValuesSupported) > 0)},
		{Key: "iss parameter (RFC 9207)", Value: yes(md.AuthorizationResponseIssParameterSupported)},
		{Key: "mTLS-bound tokens", Value: yes(md.TLSClientCertificateBoundAccessTokens)},
	})
}
