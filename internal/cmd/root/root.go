// Package root assembles the command tree and runs it.
package root

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/redact"
	"github.com/idpctl/idpctl/internal/ui"
)

// Run executes the command line and reports an error on stderr. It returns
// the error so main can map it to the exit code.
func Run(args []string) error {
	ios := iostreams.System()
	f := cli.New(ios, os.Getenv, cli.Version)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := NewCmdRoot(f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		if ctx.Err() != nil && errs.KindOf(err) == errs.KindUnknown {
			err = errs.Wrap(errs.KindInterrupted, err)
		}
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(ios.ErrOut, "idpctl: %s\n", ui.Sanitize(redact.Text(err.Error())))
		}
	}
	return err
}

// errSilent marks an error already reported to the user.
var errSilent = errors.New("already reported")

// NewCmdRoot builds the whole command tree. It reads nothing from disk or
// network: the factory's seams are lazy.
func NewCmdRoot(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "idpctl",
		Short: "Manage OAuth 2.0 and OpenID Connect tokens and IdP admin tasks",
		Long: `idpctl gets, refreshes, inspects and revokes OAuth 2.0 / OpenID Connect tokens
against any standards-compliant identity provider, caches them in the OS
keychain, and drives the admin APIs of common IdPs for the work no standard
covers (revoking a user's tokens, token lifetimes, key rotation).

stdout carries data only; messages go to stderr. Exit codes are listed by
'idpctl help exit-codes', environment variables by 'idpctl help environment'.`,
		Example: `  # Try everything against a built-in IdP
  idpctl demo

  # CI: a token from environment variables, nothing written to disk
  IDPCTL_ISSUER=https://idp.example.com IDPCTL_CLIENT_ID=ci \
  IDPCTL_CLIENT_SECRET_FILE=/run/secrets/idp IDPCTL_STORE=memory idpctl token get`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       cli.Version,
	}
	cmd.SetVersionTemplate("idpctl {{.Version}}\n")
	cmd.SetIn(f.IOStreams.In)
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return errs.New(errs.KindUsage, "%w (see '%s --help')", err, c.CommandPath())
	})

	fl := cmd.PersistentFlags()
	g := f.Flags
	fl.StringVarP(&g.Profile, "profile", "p", "", "profile to use (default: the current profile, or $IDPCTL_PROFILE)")
	fl.StringVar(&g.Store, "store", "", "credential store: keychain, file (plaintext, with a warning) or memory (default: keychain, or $IDPCTL_STORE)")
	fl.BoolVar(&g.Debug, "debug", false, "trace HTTP requests and responses on stderr, with credentials redacted")
	fl.DurationVar(&g.Timeout, "timeout", 0, "timeout of each HTTP request (default 30s)")
	fl.DurationVar(&g.Deadline, "deadline", 0, "overall time limit for the command's retries: no retry waits or runs past it (default: 4 times --timeout; admin commands only when given)")
	fl.StringVar(&g.Issuer, "issuer", "", "issuer URL, overriding the profile ($IDPCTL_ISSUER)")
	fl.StringVar(&g.ClientID, "client-id", "", "client id, overriding the profile ($IDPCTL_CLIENT_ID)")
	fl.StringVar(&g.ClientSecretFile, "client-secret-file", "", "file holding the client secret ($IDPCTL_CLIENT_SECRET_FILE); secrets are never taken from arguments")
	fl.StringVar(&g.ClientAuthMethod, "client-auth", "", "client authentication: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth or none ($IDPCTL_CLIENT_AUTH)")
	fl.StringVar(&g.ClientAssertionFile, "client-assertion-file", "", "file holding a JWT issued by a party the IdP trusts (CI ID token, Kubernetes service account token), sent as the client assertion instead of a secret ($IDPCTL_CLIENT_ASSERTION_FILE)")
	fl.StringVar(&g.ClientAssertionSource, "client-assertion-source", "", "get the client assertion from a CI runtime instead of a file: github-actions ($IDPCTL_CLIENT_ASSERTION_SOURCE)")
	fl.StringVar(&g.ClientAssertionAudience, "client-assertion-audience", "", "audience to ask the client assertion source for (default: the issuer) ($IDPCTL_CLIENT_ASSERTION_AUDIENCE)")
	fl.StringVar(&g.PrivateKeyFile, "private-key-file", "", "PEM or JWK private key signing private_key_jwt assertions")
	fl.StringVar(&g.ClientCertFile, "client-cert-file", "", "client certificate (PEM) for tls_client_auth")
	fl.StringVar(&g.ClientKeyFile, "client-key-file", "", "key of the client certificate (PEM)")
	fl.StringVar(&g.TokenEndpoint, "token-endpoint", "", "token endpoint, for IdPs without discovery")
	fl.StringVar(&g.CAFile, "ca-file", "", "extra CA certificates (PEM) to trust, e.g. for a self-signed IdP")
	fl.StringVar(&g.Proxy, "proxy", "", "HTTP proxy URL (default: from HTTPS_PROXY and NO_PROXY)")

	for _, c := range commands(f) {
		cmd.AddCommand(c)
	}
	addHelpTopics(cmd)
	requireSubcommands(cmd)
	markUsageErrors(cmd)
	return cmd
}

// requireSubcommands makes a group command (token, profile, app, ...)
// refuse a subcommand it does not have: cobra would print the group's help
// and exit 0, so `idpctl token gte` in a script looked like success. The
// root already refuses unknown commands itself.
func requireSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		requireSubcommands(sub)
	}
	if !c.HasParent() || !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	if c.SuggestionsMinimumDistance <= 0 {
		// Two edits: a swapped pair of letters ("gte") is a likely typo.
		c.SuggestionsMinimumDistance = 3
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return errs.New(errs.KindUsage, "%s (see '%s --help')", msg, cmd.CommandPath())
	}
}

// markUsageErrors gives argument-validation errors the usage kind so they
// exit 2 like flag errors do.
func markUsageErrors(c *cobra.Command) {
	if c.Args != nil {
		validate := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := validate(cmd, args); err != nil {
				return errs.New(errs.KindUsage, "%w (see '%s --help')", err, cmd.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsageErrors(sub)
	}
}
