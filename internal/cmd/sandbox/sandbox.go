// Package sandbox implements `idpctl sandbox`.
package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/sandbox"
	"github.com/idpctl/idpctl/internal/ui"
)

// SandboxOptions are the inputs of sandbox.
type SandboxOptions struct {
	IO               *iostreams.IOStreams
	Addr             string
	AccessTokenTTL   time.Duration
	RefreshTokenTTL  time.Duration
	ClientSecretFile string
	Output           string
	LogRequests      bool
}

// NewCmdSandbox builds the command.
func NewCmdSandbox(f *cli.Factory, runF func(context.Context, *SandboxOptions) error) *cobra.Command {
	opts := &SandboxOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve an in-memory identity provider on loopback for trying idpctl and testing scripts",
		Long: `Start an OAuth 2.0 / OpenID Connect provider on 127.0.0.1 that keeps
everything in memory and approves every login as the demo user. It offers
discovery, JWKS, client credentials, authorization code with PKCE (no login
page: the browser is redirected straight back), refresh with rotation,
revocation (RFC 7009) and introspection (RFC 7662), with JWT access tokens.

It prints its issuer and the demo clients' credentials, then serves until
interrupted. It listens on loopback only and is not an IdP for real use.`,
		Example: `  # In one shell
  idpctl sandbox --addr 127.0.0.1:9400

  # In another: the printed variables make idpctl talk to it
  idpctl sandbox -o env > sandbox.env &   # then: . ./sandbox.env; idpctl token get`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return sandboxRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", sandbox.DefaultAddr, "loopback address to listen on (port 0: chosen by the OS)")
	fl.DurationVar(&opts.AccessTokenTTL, "access-token-ttl", sandbox.DefaultAccessTokenLifetime, "lifetime of access tokens")
	fl.DurationVar(&opts.RefreshTokenTTL, "refresh-token-ttl", sandbox.DefaultRefreshTokenLifetime, "lifetime of refresh tokens")
	fl.StringVar(&opts.ClientSecretFile, "client-secret-file", "", "file holding the secret demo-service should have (default: random)")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output: text, json or env")
	fl.BoolVar(&opts.LogRequests, "log", false, "log each request (method, path, status) on stderr")
	return cmd
}

func sandboxRun(ctx context.Context, opts *SandboxOptions) error {
	if opts.Output != "text" && opts.Output != "json" && opts.Output != "env" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text, json or env", opts.Output)
	}
	so := sandbox.Options{Addr: opts.Addr, AccessTokenLifetime: opts.AccessTokenTTL, RefreshTokenLifetime: opts.RefreshTokenTTL}
	if opts.ClientSecretFile != "" {
		raw, err := os.ReadFile(opts.ClientSecretFile)
		if err != nil {
			return errs.New(errs.KindUsage, "reading the client secret file: %w", err)
		}
		so.ClientSecret = strings.TrimSpace(string(raw))
	}
	if opts.LogRequests {
		so.Log = opts.IO.ErrOut
	}
	srv, err := sandbox.Start(ctx, so)
	if err != nil {
		return errs.Wrap(errs.KindUsage, err)
	}
	defer srv.Close()
	service, _ := srv.Client(sandbox.ServiceClientID)
	switch opts.Output {
	case "json":
		type client struct {
			ID         string   `json:"client_id"`
			Secret     string   `json:"client_secret,omitempty"`
			AuthMethod string   `json:"token_endpoint_auth_method"`
			GrantTypes []string `json:"grant_types"`
			Scopes     []string `json:"scopes"`
		}
		var clients []client
		for _, c := range srv.Clients() {
			clients = append(clients, client{c.ID, c.Secret, c.AuthMethod, c.GrantTypes, c.Scopes})
		}
		if err := json.NewEncoder(opts.IO.Out).Encode(map[string]any{"issuer": srv.Issuer(), "clients": clients, "demo_user": srv.DemoUser()}); err != nil {
			return err
		}
	case "env":
		fmt.Fprintf(opts.IO.Out, "export IDPCTL_ISSUER=%s\nexport IDPCTL_CLIENT_ID=%s\nexport IDPCTL_CLIENT_SECRET=%s\nexport IDPCTL_STORE=memory\n", srv.Issuer(), service.ID, service.Secret)
	default:
		pr := ui.ForStdout(opts.IO)
		pr.Println(pr.Heading("idpctl sandbox") + " " + pr.Dim("(in memory, loopback only, every login approved as "+srv.DemoUser()+")"))
		pr.KeyValues([]ui.Pair{{Key: "issuer", Value: srv.Issuer()}})
		rows := [][]string{}
		for _, c := range srv.Clients() {
			secret := c.Secret
			if secret == "" {
				secret = "(public client)"
			}
			rows = append(rows, []string{c.ID, secret, c.AuthMethod, strings.Join(c.GrantTypes, ",")})
		}
		pr.Table([]string{"CLIENT", "SECRET", "AUTH", "GRANTS"}, rows)
		pr.Println()
		pr.Println("Try it from another shell:")
		pr.Printf("  export IDPCTL_ISSUER=%s IDPCTL_CLIENT_ID=%s IDPCTL_STORE=memory\n", srv.Issuer(), service.ID)
		pr.Printf("  printf %%s '<secret above>' > /tmp/sandbox-secret && idpctl token get --client-secret-file /tmp/sandbox-secret\n")
		pr.Println(pr.Dim("Serving until interrupted (Ctrl-C)."))
	}
	<-ctx.Done()
	return nil
}
