// Package show implements `idpctl profile show`.
package show

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/redact"
	"github.com/idpctl/idpctl/internal/ui"
)

// ShowOptions are the inputs of profile show.
type ShowOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Name    string
	Output  string
}

// NewCmdShow builds the command.
func NewCmdShow(f *cli.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show a profile as in force, after environment and flags",
		Long: `Show the settings of a profile (default: the current one) after environment
variables and flags are applied, and where its client secret comes from. The
secret itself is never shown.`,
		Example: "  idpctl profile show\n  IDPCTL_SCOPE=api:read idpctl profile show ci -o json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return showRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	return cmd
}

func showRun(ctx context.Context, opts *ShowOptions) error {
	if opts.Output != "text" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text or json", opts.Output)
	}
	f := opts.Factory
	if opts.Name != "" {
		f.Flags.Profile = opts.Name
	}
	p, err := f.Profile()
	if err != nil {
		return err
	}
	secretSource := secretSource(ctx, f, p)
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"name": p.Name, "in_config_file": p.InFile, "profile": maskURLs(p.Profile),
			"client_secret_source": secretSource, "store": f.StoreBackend(),
		})
	}
	pr := ui.New(opts.IO.Out, opts.IO.ColorEnabled())
	pairs := []ui.Pair{{Key: "name", Value: p.Name}}
	add := func(k, v string) {
		if v != "" {
			pairs = append(pairs, ui.Pair{Key: k, Value: v})
		}
	}
	add("issuer", redact.URLPassword(p.Issuer))
	add("client id", p.ClientID)
	add("client auth", cli.AuthMethod(p, secretSource != "none"))
	add("client secret", secretSource)
	add("flow", p.Flow)
	add("scope", strings.Join(p.Scopes, " "))
	add("audience", p.Audience)
	add("resource", strings.Join(p.Resources, " "))
	add("provider", p.Provider)
	add("token endpoint", redact.URLPassword(p.Endpoints.Token))
	add("private key file", p.PrivateKeyFile)
	add("client cert file", p.ClientCertFile)
	add("ca file", p.CAFile)
	add("proxy", redact.URLPassword(p.Proxy))
	add("redirect uri", p.RedirectURI)
	add("store", f.StoreBackend())
	if p.DPoP {
		alg := p.DPoPAlg
		if alg == "" {
			alg = "ES256"
		}
		add("dpop", "on ("+alg+" key in the credential store)")
	}
	if p.PAR {
		add("pushed requests", "on")
	}
	if p.RequestObject {
		add("request objects", "signed")
	}
	for k, v := range p.Admin {
		add("admin."+k, redact.URLPassword(v))
	}
	if !p.InFile {
		add("note", "not in the configuration file: built from environment and flags")
	}
	pr.KeyValues(pairs)
	return nil
}

// secretSource says where the secret would come from, without reading the
// file or printing the value.
func secretSource(ctx context.Context, f *cli.Factory, p *config.Resolved) string {
	switch {
	case p.ClientSecretFile != "":
		return "file " + p.ClientSecretFile
	case p.ClientSecretFromEnv != "":
		return "environment (IDPCTL_CLIENT_SECRET)"
	}
	if !p.InFile {
		return "none"
	}
	store, err := f.Store()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	if _, err := store.Get(ctx, p.Name, credstore.KindClientSecret); err == nil {
		return store.Backend() + " store"
	}
	return "none"
}

// maskURLs is the profile with the password of every URL masked: a proxy
// URL may carry one (user:pass@host), and what profile show prints ends up
// in terminals, tickets and CI logs.
func maskURLs(p config.Profile) config.Profile {
	p.Proxy = redact.URLPassword(p.Proxy)
	p.Issuer = redact.URLPassword(p.Issuer)
	p.Endpoints.Token = redact.URLPassword(p.Endpoints.Token)
	p.RedirectURI = redact.URLPassword(p.RedirectURI)
	if len(p.Admin) > 0 {
		admin := make(map[string]string, len(p.Admin))
		for k, v := range p.Admin {
			admin[k] = redact.URLPassword(v)
		}
		p.Admin = admin
	}
	return p
}
