// Package sandbox implements `idpctl sandbox`.
package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/boundedfile"
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
	AdminSecretFile  string
	Users            int
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

It also serves an admin API under /admin, driven by the "sandbox" provider,
so that 'token revoke --user', 'app expiry get|set' and 'key regen authz
signing|encryption' can be tried without a vendor tenant. Its bearer
credential is random unless --admin-secret-file names one. --users N seeds
user-0001 ... with a login session and a live refresh token each, for a
bulk 'token revoke --users-file' rehearsal.

It prints its issuer, the demo clients' credentials and the admin
credential, then serves until interrupted. With -o env the output is the
IDPCTL_* variables of a profile that uses it, admin settings included. It
listens on loopback only and is not an IdP for real use.`,
		Example: `  # In one shell
  idpctl sandbox --addr 127.0.0.1:9400

  # In another: the printed variables make idpctl talk to it
  idpctl sandbox -o env > sandbox.env &   # then: . ./sandbox.env; idpctl token get

  # Rehearse an offboarding of 20 seeded users
  idpctl sandbox --users 20 -o env > sandbox.env &
  . ./sandbox.env; printf 'user-%04d\n' $(seq 20) > leavers.txt
  idpctl token revoke --users-file leavers.txt --dry-run`,
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
	fl.StringVar(&opts.AdminSecretFile, "admin-secret-file", "", "file holding the admin API's bearer credential (default: random)")
	fl.IntVar(&opts.Users, "users", 0, "seed this many users (user-0001 ...), each with a session and a live refresh token")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output: text, json or env")
	fl.BoolVar(&opts.LogRequests, "log", false, "log each request (method, path, status) on stderr")
	return cmd
}

func sandboxRun(ctx context.Context, opts *SandboxOptions) error {
	if opts.Output != "text" && opts.Output != "json" && opts.Output != "env" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text, json or env", opts.Output)
	}
	so := sandbox.Options{Addr: opts.Addr, AccessTokenLifetime: opts.AccessTokenTTL, RefreshTokenLifetime: opts.RefreshTokenTTL, Users: opts.Users}
	var err error
	if so.ClientSecret, err = readSecret(opts.ClientSecretFile, "client"); err != nil {
		return err
	}
	if so.AdminSecret, err = readSecret(opts.AdminSecretFile, "admin"); err != nil {
		return err
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
		admin := map[string]string{"provider": providerName, "url": srv.AdminURL(), "auth": "bearer", "secret": srv.AdminSecret()}
		if err := json.NewEncoder(opts.IO.Out).Encode(map[string]any{"issuer": srv.Issuer(), "clients": clients, "demo_user": srv.DemoUser(), "users": srv.Users(), "admin": admin}); err != nil {
			return err
		}
	case "env":
		// The admin credential goes where every admin credential goes when
		// not in the keychain: IDPCTL_ADMIN_SECRET, never argv.
		fmt.Fprintf(opts.IO.Out, "export IDPCTL_ISSUER=%s\nexport IDPCTL_CLIENT_ID=%s\nexport IDPCTL_CLIENT_SECRET=%s\nexport IDPCTL_STORE=memory\nexport IDPCTL_PROVIDER=%s\nexport IDPCTL_ADMIN_URL=%s\nexport IDPCTL_ADMIN_AUTH=bearer\nexport IDPCTL_ADMIN_SECRET=%s\n",
			srv.Issuer(), service.ID, service.Secret, providerName, srv.AdminURL(), srv.AdminSecret())
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
		pr.KeyValues([]ui.Pair{{Key: "admin API", Value: srv.AdminURL() + " (provider " + providerName + ", bearer)"}, {Key: "admin secret", Value: srv.AdminSecret()}})
		if opts.Users > 0 {
			pr.Printf("%d seeded users, %s to %s, each with a session and a live refresh token at %s.\n", opts.Users, sandbox.SeededUser(1), sandbox.SeededUser(opts.Users), sandbox.CLIClientID)
		}
		pr.Println()
		pr.Println("Try it from another shell:")
		pr.Printf("  export IDPCTL_ISSUER=%s IDPCTL_CLIENT_ID=%s IDPCTL_STORE=memory IDPCTL_PROVIDER=%s\n", srv.Issuer(), service.ID, providerName)
		pr.Printf("  printf %%s '<secret above>' > /tmp/sandbox-secret && idpctl token get --client-secret-file /tmp/sandbox-secret\n")
		pr.Printf("  printf %%s '<admin secret above>' > /tmp/sandbox-admin && IDPCTL_ADMIN_SECRET_FILE=/tmp/sandbox-admin idpctl key list\n")
		pr.Println(pr.Dim("Or let 'idpctl sandbox -o env' print all of it as variables."))
		pr.Println(pr.Dim("Serving until interrupted (Ctrl-C)."))
	}
	<-ctx.Done()
	return nil
}

// providerName is the registry name of the sandbox's admin adapter.
const providerName = "sandbox"

// readSecret reads a secret from a file the user named, or "" for a
// random one.
func readSecret(path, what string) (string, error) {
	if path == "" {
		return "", nil
	}
	raw, err := boundedfile.Read(path, boundedfile.Secret, "the "+what+" secret file")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(raw)), nil
}
