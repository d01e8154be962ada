// Package revoke implements `idpctl token revoke` (RFC 7009).
package revoke

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/tokens"
	"github.com/idpctl/idpctl/internal/ui"
)

// RevokeOptions are the inputs of token revoke.
type RevokeOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory

	Token string // literal, "-" for stdin, or "" for the cached tokens
	// TokenFile names a file holding the token ("-" for stdin).
	TokenFile string
	Hint      string
	Output    string
	// UserFlags: the admin form (--user) lives with the provider adapters.
	User     string
	Client   string
	UserFile string
	Column   string
	Method   string
	// IncludeAppRoles also removes app-role grants (Oracle "grants").
	IncludeAppRoles bool
	DryRun          bool
	Yes             bool
	Parallel        int
	Resume          bool
	Restart         bool
	// AllowMissing accepts users the IdP does not know.
	AllowMissing bool
	// AdminRun runs the admin form (--user, --users-file); AdminRun in
	// admin.go unless a test replaces it.
	AdminRun func(context.Context, *RevokeOptions) error
}

// NewCmdRevoke builds the command.
func NewCmdRevoke(f *cli.Factory, runF func(context.Context, *RevokeOptions) error) *cobra.Command {
	opts := &RevokeOptions{IO: f.IOStreams, Factory: f, AdminRun: AdminRun}
	cmd := &cobra.Command{
		Use:   "revoke [-]",
		Short: "Revoke a token at the IdP (RFC 7009), or the profile's cached tokens",
		Long: `Ask the IdP's revocation endpoint (RFC 7009) to revoke a token.

Without an argument the profile's cached refresh token and access token are
revoked, and each local copy is removed only after the IdP confirmed. Pass -
to read a token from stdin, or --token-file FILE. A token given as an
argument still works but is visible in the process list, so it draws a
warning.

Note what the answer means: RFC 7009 §2.2 has the IdP answer 200 also for a
token it does not know or that was already invalid, so "revoked" means "no
longer valid here", not "was valid until now". Revoking a refresh token
usually ends the access tokens of its grant; revoking an access token need not
end its refresh token. A self-contained (JWT) access token may still be
accepted by APIs that do not check with the IdP until it expires.

With --user or --users-file the profile's provider admin API revokes every
token of the named users (all clients, or one with --client): the plan is
shown and confirmed first (--yes without a terminal), each result is
reported as the IdP gave it (revoked, accepted, nothing to revoke, user not
found, failed) and appended to the audit log. A user the IdP does not know
is a failure (exit 1 for --user, 8 for a list) unless --allow-missing is
given: nothing was revoked, and a wrong identifier must not pass unnoticed. A list runs in parallel within
the IdP's rate limit and records its progress in a journal, so an
interrupted run continues with --resume.`,
		Example: `  # Revoke what the profile has cached
  idpctl token revoke

  # Revoke a token from a file without putting it on the command line
  idpctl token revoke --token-file token.txt --hint refresh_token

  # Offboarding: see the plan, then revoke every token of one user
  idpctl token revoke --user jdoe --dry-run
  idpctl token revoke --user jdoe

  # A list from HR, unattended, results as JSON lines
  idpctl token revoke --users-file leavers.csv --column email --yes -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Token = args[0]
				if opts.Token != "-" {
					fmt.Fprintln(opts.IO.ErrOut, cli.ArgTokenWarning)
				}
			}
			if err := cli.CheckTokenInput(opts.Token, opts.TokenFile); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if err := checkAdminFlags(opts); err != nil {
				return err
			}
			if opts.User != "" || opts.UserFile != "" {
				if opts.AdminRun == nil {
					return errs.New(errs.KindUnsupported, "revoking by user needs a provider admin API")
				}
				return opts.AdminRun(cmd.Context(), opts)
			}
			return revokeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.TokenFile, "token-file", "", "read the token to revoke from FILE (- for stdin)")
	cmd.Flags().StringVar(&opts.Hint, "hint", "", "token_type_hint: access_token or refresh_token")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	cmd.Flags().BoolVar(&f.Flags.DPoP, "dpop", false, cli.DPoPFlagUsage)
	fl := cmd.Flags()
	fl.StringVar(&opts.User, "user", "", "revoke every token of this user through the provider's admin API")
	fl.StringVar(&opts.Client, "client", "", "with --user or --users-file: only the tokens of this client (application)")
	fl.StringVar(&opts.UserFile, "users-file", "", "revoke the tokens of every user in FILE: one per line, or CSV with a header (- for stdin)")
	fl.StringVar(&opts.Column, "column", "", "CSV column holding the users (default: the first of user, user_id, username, email, id)")
	fl.StringVar(&opts.Method, "method", "", "provider-specific way to revoke: oracle deactivate|grants (required there, no direct way exists); keycloak consent (per client, keep the SSO sessions); okta grants (also revoke the client's consent grants)")
	fl.BoolVar(&opts.IncludeAppRoles, "include-app-roles", false, "oracle grants: also remove the user's app-role grants, administrator roles included (kept and listed otherwise)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "show the calls that would be made, and send nothing")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (required without a terminal)")
	fl.IntVar(&opts.Parallel, "parallel", 4, "users worked on at once")
	fl.BoolVar(&opts.Resume, "resume", false, "continue an interrupted --users-file run: skip users done, retry failed ones")
	fl.BoolVar(&opts.Restart, "restart", false, "discard the journal of an unfinished --users-file run and start over")
	fl.BoolVar(&opts.AllowMissing, "allow-missing", false, "accept users the IdP does not know as done (default: they fail the run, exit 1 for --user, 8 for a list)")
	cmd.MarkFlagsMutuallyExclusive("user", "users-file")
	cmd.MarkFlagsMutuallyExclusive("resume", "restart")
	return cmd
}

// outcome is one line of the report; the JSON shape is tokens.Outcome's.
type outcome = tokens.Outcome

func revokeRun(ctx context.Context, opts *RevokeOptions) error {
	if opts.Hint != "" && opts.Hint != oauth.HintAccessToken && opts.Hint != oauth.HintRefreshToken {
		return errs.New(errs.KindUsage, "--hint must be access_token or refresh_token")
	}
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	client, err := f.OAuthClient(ctx, p)
	if err != nil {
		return err
	}
	var results []outcome
	if opts.Token != "" || opts.TokenFile != "" {
		token := opts.Token
		if opts.TokenFile != "" {
			if token, err = f.ReadTokenFile(opts.TokenFile); err != nil {
				return err
			}
		} else if token == "-" {
			raw, err := opts.IO.ReadAllIn(1 << 20)
			if err != nil {
				return errs.New(errs.KindUsage, "reading the token from stdin: %w", err)
			}
			token = strings.TrimSpace(string(raw))
		}
		if token == "" {
			return errs.New(errs.KindUsage, "no token given")
		}
		if err := client.Revoke(ctx, token, opts.Hint); err != nil {
			return err
		}
		results = append(results, outcome{Kind: hintOr(opts.Hint, "token"), Result: tokens.Revoked})
	} else {
		cache, err := f.CachedTokens(p)
		if err != nil {
			return err
		}
		cached, err := cache.RevokeCached(ctx, client)
		if err != nil {
			return err
		}
		results = cached
	}
	return write(opts, results)
}

func hintOr(h, def string) string {
	if h != "" {
		return h
	}
	return def
}

func write(opts *RevokeOptions, results []outcome) error {
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"results": results})
	}
	ui.New(opts.IO.ErrOut, opts.IO.ColorEnabledStderr()).Revocations(reportLines(results))
	return nil
}

// reportLines turns revocation outcomes into report lines.
func reportLines(results []tokens.Outcome) []ui.Revocation {
	lines := make([]ui.Revocation, len(results))
	for i, r := range results {
		lines[i] = ui.Revocation{Kind: r.Kind, Result: r.Result, Note: r.Note}
	}
	return lines
}
