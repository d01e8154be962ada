// Package add implements `idpctl profile add`.
package add

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/boundedfile"
	"github.com/idpctl/idpctl/internal/ciassert"
	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/provider/registry"
	"github.com/idpctl/idpctl/internal/redact"
	"github.com/idpctl/idpctl/internal/tokens"
)

// AddOptions are the inputs of profile add.
type AddOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory

	Name            string
	Scopes          []string
	Audience        string
	Resources       []string
	Provider        string
	Flow            string
	RedirectURI     string
	Admin           []string
	SecretStdin     bool
	SecretPrompt    bool
	StoreSecretFile bool
	Use             bool
	Overwrite       bool

	// AdminSecretStdin and AdminPrompt take the admin API credential
	// (stored as credstore.KindAdminCredential); see admin.go.
	AdminSecretStdin bool
	AdminPrompt      bool
}

// NewCmdAdd builds the command.
func NewCmdAdd(f *cli.Factory, runF func(context.Context, *AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Create or update a profile: which IdP, which client, how to authenticate",
		Long: `Create a profile in the configuration file, or update one with --overwrite.

Connection settings come from the global flags (--issuer, --client-id,
--client-auth, --private-key-file, --client-cert-file, --client-key-file,
--token-endpoint, --ca-file, --proxy, --store). The client secret is never
taken from an argument: --client-secret-stdin reads it from stdin,
--prompt-secret asks for it without echo, and either stores it in the
credential store; --client-secret-file keeps only the file's path in the
profile (add --store-secret to copy the secret into the credential store).`,
		Example: `  # A CI client whose secret is read from stdin into the keychain
  printf %s "$SECRET" | idpctl profile add ci --issuer https://idp.example.com \
      --client-id ci-bot --client-secret-stdin --scope api:read

  # A developer login with PKCE (public client)
  idpctl profile add dev --issuer https://idp.example.com --client-id cli \
      --client-auth none --scope openid,offline_access --use

  # Webex, which publishes no discovery document
  idpctl profile add webex --token-endpoint https://webexapis.com/v1/access_token \
      --client-id C123 --client-auth client_secret_post --prompt-secret`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return addRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&opts.Scopes, "scope", nil, "default scopes, separated by spaces or commas, or repeated")
	fl.StringVar(&opts.Audience, "audience", "", "default audience")
	fl.StringSliceVar(&opts.Resources, "resource", nil, "default RFC 8707 resource indicators")
	fl.StringVar(&opts.Provider, "provider", "", "admin API provider: "+strings.Join(registry.Names(), ", "))
	fl.StringVar(&opts.Flow, "flow", "", "default grant: "+strings.Join(tokens.Flows, ", "))
	fl.StringVar(&opts.RedirectURI, "redirect-uri", "", "exact loopback redirect URI, for IdPs that do not accept any port")
	fl.StringArrayVar(&opts.Admin, "admin", nil, "provider admin setting KEY=VALUE (e.g. realm=master), repeatable")
	fl.BoolVar(&opts.SecretStdin, "client-secret-stdin", false, "read the client secret from stdin and keep it in the credential store")
	fl.BoolVar(&opts.SecretPrompt, "prompt-secret", false, "ask for the client secret (no echo) and keep it in the credential store")
	fl.BoolVar(&opts.AdminSecretStdin, "admin-secret-stdin", false, "read the admin API credential (API token, password or admin client secret) from stdin and keep it in the credential store")
	fl.BoolVar(&opts.AdminPrompt, "admin-prompt", false, "ask for the admin API credential (no echo) and keep it in the credential store")
	fl.BoolVar(&opts.StoreSecretFile, "store-secret", false, "with --client-secret-file: copy the secret into the credential store instead of remembering the path")
	fl.BoolVar(&opts.Use, "use", false, "make it the current profile")
	fl.BoolVar(&opts.Overwrite, "overwrite", false, "update an existing profile")
	return cmd
}

func addRun(ctx context.Context, opts *AddOptions) error {
	if err := config.ValidateName(opts.Name); err != nil {
		return errs.Wrap(errs.KindUsage, err)
	}
	f := opts.Factory
	g := f.Flags
	cfg, path, err := f.Config()
	if err != nil {
		return err
	}
	p, exists := cfg.Profiles[opts.Name]
	if exists && !opts.Overwrite {
		return errs.New(errs.KindUsage, "profile %q exists: pass --overwrite to change it", opts.Name)
	}
	if p == nil {
		p = &config.Profile{}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	if g.Issuer != "" {
		// Refused here, before anything is written, rather than at the
		// first token request (and never echoed with a password in it).
		if err := oauth.CheckIssuer(g.Issuer); err != nil {
			return err
		}
	}
	set(&p.Issuer, g.Issuer)
	set(&p.ClientID, g.ClientID)
	set(&p.ClientAuthMethod, g.ClientAuthMethod)
	set(&p.PrivateKeyFile, absPath(g.PrivateKeyFile))
	set(&p.ClientAssertionFile, absPath(g.ClientAssertionFile))
	set(&p.ClientAssertionSource, g.ClientAssertionSource)
	set(&p.ClientAssertionAudience, g.ClientAssertionAudience)
	if p.ClientAssertionSource != "" {
		if err := ciassert.ValidateSource(p.ClientAssertionSource, "--client-assertion-source"); err != nil {
			return err
		}
	}
	set(&p.ClientCertFile, absPath(g.ClientCertFile))
	set(&p.ClientKeyFile, absPath(g.ClientKeyFile))
	set(&p.Endpoints.Token, g.TokenEndpoint)
	set(&p.CAFile, absPath(g.CAFile))
	g.Proxy = strings.TrimSpace(g.Proxy)
	if redact.URLPassword(g.Proxy) != g.Proxy {
		// The configuration file holds no secrets (docs/security.md).
		return errs.New(errs.KindUsage, "the proxy URL %s carries a password, which the configuration file must not hold: set it in IDPCTL_PROXY or HTTPS_PROXY instead", redact.URLPassword(g.Proxy))
	}
	set(&p.Proxy, g.Proxy)
	set(&p.Store, g.Store)
	set(&p.Audience, opts.Audience)
	set(&p.Provider, opts.Provider)
	set(&p.Flow, opts.Flow)
	set(&p.RedirectURI, opts.RedirectURI)
	if len(opts.Scopes) > 0 {
		p.Scopes = config.SplitScopes(opts.Scopes)
	}
	if len(opts.Resources) > 0 {
		p.Resources = opts.Resources
	}
	// Everything given is checked before anything is stored or written:
	// a refused profile leaves no trace.
	if err := checkProvider(p.Provider); err != nil {
		return err
	}
	for _, kv := range opts.Admin {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return errs.New(errs.KindUsage, "--admin takes KEY=VALUE, got %q", redactedAdminArg(kv))
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if err := checkAdminKey(p.Provider, k); err != nil {
			return err
		}
		if p.Admin == nil {
			p.Admin = map[string]string{}
		}
		p.Admin[k] = v
	}
	if p.Issuer == "" && p.Endpoints.Token == "" {
		return errs.New(errs.KindUsage, "a profile needs --issuer (or --token-endpoint for IdPs without discovery)")
	}
	if p.ClientAuthMethod != "" && !contains(oauth.AuthMethods, p.ClientAuthMethod) {
		return errs.New(errs.KindUsage, "unknown --client-auth %q: choose one of %s", p.ClientAuthMethod, strings.Join(oauth.AuthMethods, ", "))
	}
	if p.Flow != "" {
		if err := tokens.ValidateFlow(p.Flow); err != nil {
			return err
		}
	}

	secret, err := opts.readSecret(g.ClientSecretFile)
	if err != nil {
		return err
	}
	adminSecret, err := opts.readAdminSecret()
	if err != nil {
		return err
	}
	if g.ClientSecretFile != "" && !opts.StoreSecretFile {
		p.ClientSecretFile = absPath(g.ClientSecretFile)
	}
	if secret != "" {
		// Write the secret before the profile: a profile that names a
		// secret it does not have is worse than a stored orphan secret.
		f.Flags.Profile = opts.Name
		store, err := f.Store()
		if err != nil {
			return err
		}
		if err := store.Set(ctx, opts.Name, credstore.KindClientSecret, []byte(secret)); err != nil {
			return fmt.Errorf("storing the client secret: %w", err)
		}
		if p.ClientAuthMethod == "" {
			p.ClientAuthMethod = oauth.AuthSecretBasic
		}
	}
	if err := opts.storeAdminSecret(ctx, adminSecret); err != nil {
		return err
	}
	cfg.Profiles[opts.Name] = p
	if opts.Use || cfg.CurrentProfile == "" {
		cfg.CurrentProfile = opts.Name
	}
	if err := cfg.Save(path); err != nil {
		return err
	}
	verb := "Added"
	if exists {
		verb = "Updated"
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s profile %q in %s", verb, opts.Name, path)
	if secret != "" {
		fmt.Fprintf(opts.IO.ErrOut, "; client secret stored in the %s store", f.StoreBackend())
	}
	if adminSecret != "" {
		fmt.Fprintf(opts.IO.ErrOut, "; admin credential stored in the %s store", f.StoreBackend())
	}
	if cfg.CurrentProfile == opts.Name {
		fmt.Fprint(opts.IO.ErrOut, "; it is the current profile")
	}
	fmt.Fprintln(opts.IO.ErrOut)
	return nil
}

func (opts *AddOptions) readSecret(file string) (string, error) {
	n := 0
	for _, b := range []bool{opts.SecretStdin, opts.SecretPrompt, file != "" && opts.StoreSecretFile} {
		if b {
			n++
		}
	}
	if n > 1 {
		return "", errs.New(errs.KindUsage, "give the client secret one way only: --client-secret-stdin, --prompt-secret or --client-secret-file --store-secret")
	}
	var s string
	switch {
	case opts.SecretStdin:
		raw, err := opts.IO.ReadAllIn(64 << 10)
		if err != nil {
			return "", errs.New(errs.KindUsage, "reading the client secret from stdin: %w", err)
		}
		s = strings.TrimRight(string(raw), "\r\n")
	case opts.SecretPrompt:
		var err error
		s, err = opts.IO.ReadSecret("Client secret: ")
		if err != nil {
			return "", errs.New(errs.KindUsage, "--prompt-secret needs a terminal; use --client-secret-stdin in scripts")
		}
	case file != "" && opts.StoreSecretFile:
		raw, err := boundedfile.Read(file, boundedfile.Secret, "the client secret file")
		if err != nil {
			return "", err
		}
		s = strings.TrimRight(string(raw), "\r\n")
	default:
		return "", nil
	}
	if s == "" {
		return "", errs.New(errs.KindUsage, "the client secret is empty")
	}
	return s, nil
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := filepathAbs(p); err == nil {
		return abs
	}
	return p
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
