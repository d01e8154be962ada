// Package get implements `idpctl token get`.
package get

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/tokens"
	"github.com/idpctl/idpctl/internal/ui"
)

// Output formats.
const (
	OutputRaw            = "raw"
	OutputJSON           = "json"
	OutputHeader         = "header"
	OutputEnv            = "env"
	OutputExecCredential = "exec-credential"
)

// GetOptions are the inputs of token get.
type GetOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Now     func() time.Time
	Getenv  func(string) string

	Grant   tokens.GrantOptions
	Scopes  []string
	MinTTL  time.Duration
	NoCache bool
	Output  string
	// AuthorizationDetails is the raw --authorization-details value.
	AuthorizationDetails string
}

// NewCmdGet builds the command; runF replaces the run function in tests.
func NewCmdGet(f *cli.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams, Factory: f, Now: f.Now, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Print an access token, from the cache or fresh from the IdP",
		Long: `Print an access token for the profile on stdout, and nothing else.

A cached token with at least --min-ttl left is returned without contacting the
IdP. When --min-ttl is given and even a new token from the IdP lives less,
the command fails (exit 1) rather than print a token that will not last. Otherwise the cached refresh token is used (one refresh at a time across
processes), and failing that the profile's grant runs: client credentials,
JWT bearer or token exchange without a person; the browser or device login
only at a terminal (in a script, run 'idpctl login' once first).`,
		Example: `  # CI: raw token into a header
  curl -H "Authorization: Bearer $(idpctl token get)" https://api.example.com/

  # A token valid for at least 10 more minutes, as JSON
  idpctl token get --min-ttl 10m -o json

  # kubectl credential plugin (users[].user.exec.command: idpctl)
  idpctl token get -o exec-credential --profile k8s

  # RFC 8693 token exchange of another profile's token for a new audience
  idpctl token get --flow token-exchange --subject-token-profile web --audience https://api.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("min-ttl") {
				opts.MinTTL = tokens.AutoMinTTL
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return getRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Grant.Flow, "flow", "", "grant to run when nothing usable is cached: "+strings.Join(tokens.Flows, ", ")+" (default: the profile's, else client-credentials for a confidential client, else auth-code)")
	fl.StringSliceVar(&opts.Scopes, "scope", nil, "scopes to request, separated by spaces or commas, or repeated (default: the profile's)")
	fl.StringVar(&opts.Grant.Options.Audience, "audience", "", "audience to request (RFC 8693, or the IdP's audience parameter)")
	fl.StringSliceVar(&opts.Grant.Options.Resources, "resource", nil, "RFC 8707 resource indicator, repeatable")
	fl.DurationVar(&opts.MinTTL, "min-ttl", 60*time.Second, "shortest remaining lifetime of the returned token: a cached one with less is renewed, and a new one from the IdP with less fails the command (exit 1); when not given, 60s or half the token's lifetime, never failing")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "ignore a cached access token (a cached refresh token is still used)")
	fl.StringVarP(&opts.Output, "output", "o", OutputRaw, "output: raw, json, header, env or exec-credential")
	fl.BoolVar(&f.Flags.DPoP, "dpop", false, cli.DPoPFlagUsage)
	fl.StringVar(&opts.AuthorizationDetails, "authorization-details", "", cli.AuthorizationDetailsFlagUsage)
	addGrantFlags(cmd, &opts.Grant)
	return cmd
}

// addGrantFlags adds the flags of the individual grants.
func addGrantFlags(cmd *cobra.Command, g *tokens.GrantOptions) {
	fl := cmd.Flags()
	fl.BoolVar(&g.NoBrowser, "no-browser", false, "auth-code and device: print the URL on stderr instead of opening a browser")
	fl.IntVar(&g.RedirectPort, "redirect-port", 0, "auth-code: fixed port of the loopback redirect http://127.0.0.1:PORT/callback (default: chosen by the OS)")
	fl.StringVar(&g.RedirectURI, "redirect-uri", "", "auth-code: exact loopback redirect URI registered at the IdP")
	fl.StringVar(&g.AssertionFile, "assertion-file", "", "jwt-bearer: file holding a ready JWT assertion (- for stdin)")
	fl.StringVar(&g.AssertionKeyFile, "assertion-key-file", "", "jwt-bearer: private key (PEM or JWK) to sign a user assertion with")
	fl.StringVar(&g.AssertionSubject, "assertion-subject", "", "jwt-bearer: user the assertion is for (sub)")
	fl.StringVar(&g.AssertionIssuer, "assertion-issuer", "", "jwt-bearer: iss of the assertion (default: the client id)")
	fl.StringVar(&g.AssertionAudience, "assertion-audience", "", "jwt-bearer: aud of the assertion (default: the token endpoint)")
	fl.StringVar(&g.SubjectTokenFile, "subject-token-file", "", "token-exchange: file holding the subject token (- for stdin)")
	fl.StringVar(&g.SubjectTokenProfile, "subject-token-profile", "", "token-exchange: use this profile's cached access token as the subject token")
	fl.StringVar(&g.SubjectTokenSource, "subject-token-source", "", "token-exchange: get the subject token from a CI runtime: github-actions (type id_token unless --subject-token-type says otherwise)")
	fl.StringVar(&g.SubjectTokenAudience, "subject-token-audience", "", "token-exchange: audience to ask the subject token source for (default: the issuer)")
	fl.StringVar(&g.SubjectTokenType, "subject-token-type", "", "token-exchange: subject token type: access_token, id_token, jwt, refresh_token or a URI (default: access_token; id_token with --subject-token-source)")
	fl.StringVar(&g.ActorTokenFile, "actor-token-file", "", "token-exchange: file holding the actor token")
	fl.StringVar(&g.ActorTokenType, "actor-token-type", "", "token-exchange: actor token type URI (default: access_token)")
	fl.StringVar(&g.RequestedTokenType, "requested-token-type", "", "token-exchange: requested token type URI")
}

func getRun(ctx context.Context, opts *GetOptions) error {
	switch opts.Output {
	case OutputRaw, OutputJSON, OutputHeader, OutputEnv, OutputExecCredential:
	default:
		return errs.New(errs.KindUsage, "unknown output %q: choose raw, json, header, env or exec-credential", opts.Output)
	}
	f := opts.Factory
	grant := opts.Grant
	var err error
	if grant.Options.AuthorizationDetails, err = f.AuthorizationDetails(opts.AuthorizationDetails); err != nil {
		return err
	}
	p, err := f.Profile()
	if err != nil {
		return err
	}
	g, err := tokens.PrepareGrant(p, grant, opts.Scopes)
	if err != nil {
		return err
	}
	svc, err := f.TokenService(ctx, p, g)
	if err != nil {
		return err
	}
	res, err := svc.Get(ctx, tokens.Request{
		Options: g.Options, MinTTL: opts.MinTTL, NoCache: opts.NoCache,
		NoGrant: g.Flow == tokens.FlowRefresh,
	})
	if err != nil {
		return err
	}
	if missing := missingScopes(res.Token.Scope, g.Options.Scopes); len(missing) > 0 {
		// RFC 6749 §3.3: the IdP may grant less than asked, and names what
		// it granted; a script should hear that the token lacks a scope.
		fmt.Fprintf(opts.IO.ErrOut, "warning: the IdP did not grant %s; the token holds %s\n", ui.Sanitize(strings.Join(missing, " ")), ui.Sanitize(res.Token.Scope))
	}
	if res.Token.DPoPDeclined {
		// The token type is reported truthfully either way; say why it
		// is not the one asked for.
		fmt.Fprintf(opts.IO.ErrOut, "warning: DPoP was asked for, but %s issued a Bearer token: it does not bind tokens to a key (no DPoP support)\n", ui.Sanitize(p.Issuer))
	}
	return Write(opts.IO, opts.Output, res.Token, string(res.Source), opts.Now(), opts.Getenv)
}

// missingScopes lists the asked scopes the IdP's granted scope leaves out;
// none when the IdP named no scope (the request was granted as made).
func missingScopes(granted string, asked []string) []string {
	if strings.TrimSpace(granted) == "" {
		return nil
	}
	have := map[string]bool{}
	for _, sc := range strings.Fields(granted) {
		have[sc] = true
	}
	var missing []string
	for _, sc := range asked {
		if !have[sc] && sc != tokens.OfflineAccess {
			missing = append(missing, sc)
		}
	}
	return missing
}

// Write prints the token in the chosen format.
func Write(ios *iostreams.IOStreams, output string, at *credstore.AccessToken, source string, now time.Time, getenv func(string) string) error {
	out := ios.Out
	switch output {
	case OutputRaw:
		_, err := fmt.Fprintln(out, at.AccessToken)
		return err
	case OutputHeader:
		_, err := fmt.Fprintf(out, "Authorization: %s %s\n", at.TokenType, at.AccessToken)
		return err
	case OutputEnv:
		fmt.Fprintf(out, "export IDPCTL_ACCESS_TOKEN=%s\n", shellQuote(at.AccessToken))
		if !at.ExpiresAt.IsZero() {
			fmt.Fprintf(out, "export IDPCTL_TOKEN_EXPIRES_AT=%s\n", at.ExpiresAt.UTC().Format(time.RFC3339))
		}
		return nil
	case OutputExecCredential:
		if at.DPoPJkt != "" {
			// client-go sends exec credentials as Bearer tokens only.
			return errs.New(errs.KindUsage, "a DPoP-bound token cannot be a Kubernetes exec credential (client-go presents Bearer tokens only); use a profile without DPoP")
		}
		return writeExecCredential(out, at, getenv)
	default:
		return writeJSON(out, at, source, now)
	}
}

func writeJSON(out interface{ Write([]byte) (int, error) }, at *credstore.AccessToken, source string, now time.Time) error {
	doc := map[string]any{
		"access_token": at.AccessToken,
		"token_type":   at.TokenType,
		"source":       source,
	}
	if at.DPoPJkt != "" {
		doc["dpop_jkt"] = at.DPoPJkt
	}
	if len(at.AuthorizationDetails) > 0 {
		doc["authorization_details"] = at.AuthorizationDetails
	}
	if at.Scope != "" {
		doc["scope"] = at.Scope
	}
	if !at.ExpiresAt.IsZero() {
		doc["expires_at"] = at.ExpiresAt.UTC().Format(time.RFC3339)
		doc["expires_in"] = int64(at.ExpiresAt.Sub(now).Seconds())
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeExecCredential prints the client-go credential plugin answer
// (client.authentication.k8s.io ExecCredential), echoing the API version
// kubectl asked for in KUBERNETES_EXEC_INFO.
func writeExecCredential(out interface{ Write([]byte) (int, error) }, at *credstore.AccessToken, getenv func(string) string) error {
	apiVersion := "client.authentication.k8s.io/v1"
	if info := getenv("KUBERNETES_EXEC_INFO"); info != "" {
		var req struct {
			APIVersion string `json:"apiVersion"`
		}
		if json.Unmarshal([]byte(info), &req) == nil && strings.HasPrefix(req.APIVersion, "client.authentication.k8s.io/") {
			apiVersion = req.APIVersion
		}
	}
	status := map[string]any{"token": at.AccessToken}
	if !at.ExpiresAt.IsZero() {
		status["expirationTimestamp"] = at.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return json.NewEncoder(out).Encode(map[string]any{
		"apiVersion": apiVersion,
		"kind":       "ExecCredential",
		"status":     status,
	})
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
