// Package doctor implements `idpctl doctor`.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/ui"
)

// DoctorOptions are the inputs of doctor.
type DoctorOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Now     func() time.Time
	Output  string
	// AdminOnly leaves out the token side (discovery, client, clock), for
	// a profile kept for admin work only.
	AdminOnly bool
}

// Check is one line of the report.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"` // ok, warn, fail, skip
	Detail string `json:"detail"`
	err    error
}

// NewCmdDoctor builds the command.
func NewCmdDoctor(f *cli.Factory, runF func(context.Context, *DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{IO: f.IOStreams, Factory: f, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration, credential store, IdP reachability, TLS and clock",
		Long: `Run the checks that explain most failures, and say what to do about each:
the configuration file and profile; the credential store (which backend,
whether the keychain answers and how fast, any plaintext file store);
discovery of the issuer over the network, including TLS and the proxy in use;
the profile's client (a client-credentials client asks for a token, which is
not cached; an interactive one has its login prerequisites checked); the
clock skew between this machine and the IdP, which breaks token
validation when it exceeds the leeway; and, when the profile names a
provider, its admin API: reachable, the admin credential obtains a token or
is accepted, and what it may read (nothing is changed). The exit status is that of the first
failed check.

--admin-only checks only what the admin commands use (configuration, profile,
credential store, proxy and the admin API), for a profile kept for admin work
whose issuer and client are not set up for tokens.`,
		Example: "  idpctl doctor\n  idpctl doctor --profile prod -o json\n  idpctl doctor --profile offboarding --admin-only",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return doctorRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	cmd.Flags().BoolVar(&opts.AdminOnly, "admin-only", false, "check only what the admin commands use: leave out discovery, the client and the clock")
	return cmd
}

func doctorRun(ctx context.Context, opts *DoctorOptions) error {
	if opts.Output != "text" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text or json", opts.Output)
	}
	f := opts.Factory
	var checks []Check
	add := func(c Check) { checks = append(checks, c) }

	_, path, cfgErr := f.Config()
	if cfgErr != nil {
		add(Check{Name: "configuration", Status: "fail", Detail: cfgErr.Error(), err: cfgErr})
	} else {
		detail := path
		if _, err := os.Stat(path); err != nil {
			detail += " (not created yet)"
		}
		add(Check{Name: "configuration", Status: "ok", Detail: detail})
	}
	p, profErr := f.Profile()
	if profErr != nil {
		add(Check{Name: "profile", Status: "fail", Detail: profErr.Error(), err: profErr})
	} else {
		src := "configuration file"
		if !p.InFile {
			src = "environment and flags"
		}
		add(Check{Name: "profile", Status: "ok", Detail: fmt.Sprintf("%s (from the %s)", p.Name, src)})
	}

	backend := f.StoreBackend()
	store, err := f.Store()
	switch {
	case err != nil:
		add(Check{Name: "credential store", Status: "fail", Detail: err.Error(), err: err})
	default:
		took, err := credstore.Probe(ctx, store)
		if err != nil {
			add(Check{Name: "credential store", Status: "fail", Detail: fmt.Sprintf("%s: %v", backend, err), err: err})
		} else {
			c := Check{Name: "credential store", Status: "ok", Detail: fmt.Sprintf("%s answers in %s", store.Backend(), took.Round(100*time.Microsecond))}
			switch store.Backend() {
			case credstore.BackendFile:
				c.Status = "warn"
				c.Detail += "; PLAINTEXT: "
				if fs, ok := store.(*credstore.File); ok {
					// The same sentence the store says once, when it
					// creates the file; doctor says it every time, even
					// with IDPCTL_FILE_STORE_WARNING=off.
					c.Detail += fs.PlaintextWarning()
				} else {
					c.Detail += "credentials are stored unencrypted in a 0600 file; prefer the OS keychain where one is available"
				}
			case credstore.BackendMemory:
				c.Detail += "; nothing persists after the command"
			}
			add(c)
		}
	}

	if profErr == nil && opts.AdminOnly && (p.Provider == "" || p.Provider == "generic") {
		return errs.New(errs.KindUsage, "--admin-only checks a profile's admin API, and profile %s names no provider: set one with 'idpctl profile add %s --overwrite --provider NAME'", p.Name, p.Name)
	}
	if profErr == nil {
		if opts.AdminOnly {
			add(Check{Name: "identity provider", Status: "skip", Detail: "not checked (--admin-only)"})
		} else {
			checkIdP(ctx, f, p.Issuer, p.CAFile, opts.Now, add)
			checkClient(ctx, f, p, add)
		}
		proxy := p.Proxy
		if proxy == "" {
			proxy = firstEnv("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
		}
		if proxy != "" {
			add(Check{Name: "proxy", Status: "ok", Detail: redactProxy(proxy)})
		} else {
			add(Check{Name: "proxy", Status: "ok", Detail: "none"})
		}
		checkAdmin(ctx, f, p, add)
	}

	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(checks); err != nil {
			return err
		}
	} else {
		pr := ui.ForStdout(opts.IO)
		rows := [][]string{}
		for _, c := range checks {
			status := c.Status
			switch c.Status {
			case "ok":
				status = pr.Success("ok")
			case "warn":
				status = pr.Warning("warn")
			case "fail":
				status = pr.Failure("fail")
			}
			rows = append(rows, []string{c.Name, status, c.Detail})
		}
		pr.Table([]string{"CHECK", "STATUS", "DETAIL"}, rows)
	}
	for _, c := range checks {
		if c.Status == "fail" {
			return fmt.Errorf("doctor: %s failed: %w", c.Name, c.err)
		}
	}
	return nil
}

// checkIdP fetches discovery afresh and compares the IdP's Date header
// with the local clock.
func checkIdP(ctx context.Context, f *cli.Factory, issuer, caFile string, now func() time.Time, add func(Check)) {
	p, _ := f.Profile()
	if issuer == "" {
		if p != nil && p.Endpoints.Token != "" {
			add(Check{Name: "identity provider", Status: "skip", Detail: "the profile names its endpoints instead of an issuer: there is no discovery to check"})
			return
		}
		// Nothing can get a token without it: a doctor that passes here
		// would pass an empty profile.
		err := errs.New(errs.KindUsage, "the profile has no issuer")
		name := "NAME"
		if p != nil {
			name = p.Name
		}
		add(Check{Name: "identity provider", Status: "fail", Detail: fmt.Sprintf("%v; fix: idpctl profile add %s --issuer URL, or set IDPCTL_ISSUER", err, name), err: err})
		return
	}
	hc, err := f.HTTPClient(p)
	if err != nil {
		add(Check{Name: "identity provider", Status: "fail", Detail: err.Error(), err: err})
		return
	}
	start := time.Now()
	md, err := oauth.Discover(ctx, hc, issuer)
	took := time.Since(start)
	if err != nil {
		add(Check{Name: "identity provider", Status: "fail", Detail: err.Error(), err: err})
		return
	}
	detail := fmt.Sprintf("%s discovered in %s", issuer, took.Round(time.Millisecond))
	if strings.HasPrefix(issuer, "https://") {
		detail += " over TLS"
		if caFile != "" {
			detail += " (trusting " + caFile + ")"
		}
	}
	add(Check{Name: "identity provider", Status: "ok", Detail: detail})
	f.MetadataCache().Save(md)

	idpTime := md.ServerDate
	if idpTime.IsZero() {
		add(Check{Name: "clock", Status: "skip", Detail: "the IdP sent no readable Date header"})
		return
	}
	skew := now().Sub(idpTime).Round(time.Second)
	c := Check{Name: "clock", Status: "ok", Detail: fmt.Sprintf("%s from the IdP's clock", skew)}
	if skew > 30*time.Second || skew < -30*time.Second {
		c.Status = "warn"
		c.Detail += "; tokens may look expired or not yet valid: synchronise the clock (NTP)"
	}
	add(c)
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// redactProxy hides proxy credentials (user:password@).
func redactProxy(p string) string {
	if at := strings.LastIndex(p, "@"); at >= 0 {
		if scheme := strings.Index(p, "://"); scheme >= 0 && scheme < at {
			return p[:scheme+3] + "[redacted]@" + p[at+1:]
		}
		return "[redacted]@" + p[at+1:]
	}
	return p
}
