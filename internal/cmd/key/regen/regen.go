// Package regen implements `idpctl key regen authz signing|encryption`.
package regen

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/admin"
	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/registry"
	"github.com/idpctl/idpctl/internal/ui"
)

// Auditor records admin actions.
type Auditor = admin.Recorder

// DefaultPollInterval is how often the JWKS is fetched while waiting for
// the new key: IdPs publish within seconds, CDNs in front of them may
// cache for a minute or more.
const DefaultPollInterval = 2 * time.Second

// RegenOptions are the inputs of key regen.
type RegenOptions struct {
	IO       *iostreams.IOStreams
	Provider func(context.Context) (provider.Provider, *config.Resolved, error)
	Audit    func() (Auditor, error)
	HTTP     func(*config.Resolved) (*httpx.Client, error)
	Now      func() time.Time
	Sleep    func(context.Context, time.Duration) error
	// PollInterval is the wait between JWKS fetches.
	PollInterval time.Duration

	Use             provider.KeyUse
	DryRun          bool
	Yes             bool
	RetireOldAfter  string
	RestartServices bool
	JWKSTimeout     string
	Output          string
}

// NewCmdRegen builds the command.
func NewCmdRegen(f *cli.Factory, runF func(context.Context, *RegenOptions) error) *cobra.Command {
	opts := &RegenOptions{IO: f.IOStreams, Provider: f.Provider, HTTP: f.HTTPClient, Now: f.Now, PollInterval: DefaultPollInterval,
		Audit: func() (Auditor, error) { return f.AuditLog() }}
	cmd := &cobra.Command{
		Use:   "regen authz signing|encryption",
		Short: "Rotate the IdP's token signing (or encryption) key, then wait until it is published",
		Long: `Create a new token signing or encryption key at the IdP and make it the one in
use, as Cisco UCM's 'set key regen authz signing|encryption' does, through the
provider's admin API.

The plan lists the calls and the consequences (which tokens stop verifying,
which services need a restart) and is confirmed first (--yes without a
terminal). After the rotation idpctl fetches the IdP's JWKS until the new
key id appears, so relying parties can verify tokens signed with it; if it
does not appear within --jwks-timeout the command fails with exit code 5.
Key material is never printed. The rotation is recorded in the audit log.`,
		Example: `  idpctl key regen authz signing --dry-run
  idpctl key regen authz signing --retire-old-after 24h
  idpctl key regen authz encryption --restart-services --yes   # Cisco UCM`,
		Args:      cobra.ExactArgs(2),
		ValidArgs: []string{"authz", "signing", "encryption"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "authz" {
				return errs.New(errs.KindUsage, "unknown key family %q: use 'key regen authz signing|encryption'", args[0])
			}
			switch provider.KeyUse(args[1]) {
			case provider.KeySigning, provider.KeyEncryption:
				opts.Use = provider.KeyUse(args[1])
			default:
				return errs.New(errs.KindUsage, "unknown key %q: use signing or encryption", args[1])
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return regenRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.DryRun, "dry-run", false, "show the plan and its consequences and change nothing (the current keys are read to plan it)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (required without a terminal)")
	durations.TextVar(fl, &opts.RetireOldAfter, "retire-old-after", "", "retire the previous keys this long after the new key is published (e.g. 24h; the command waits), where the IdP's API can retire keys")
	fl.BoolVar(&opts.RestartServices, "restart-services", false, "restart the services the IdP needs restarted after a rotation (cisco-ucm: XCP Authentication Service)")
	durations.TextVar(fl, &opts.JWKSTimeout, "jwks-timeout", "2m", "how long to wait for the new key to appear in the JWKS")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	return cmd
}

// result is the JSON output.
type result struct {
	Use          provider.KeyUse `json:"use"`
	DryRun       bool            `json:"dry_run"`
	Calls        []provider.Call `json:"calls"`
	Consequences []string        `json:"consequences"`
	NewKID       string          `json:"new_kid,omitempty"`
	Retired      []string        `json:"retired,omitempty"`
	Notes        []string        `json:"notes,omitempty"`
	JWKSURL      string          `json:"jwks_url,omitempty"`
	Published    *bool           `json:"published,omitempty"`
	// PublishedAfter is seconds from the rotation to the kid's appearance.
	PublishedAfter *float64 `json:"published_after,omitempty"`
}

func regenRun(ctx context.Context, opts *RegenOptions) error {
	if opts.Output != "text" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text or json", opts.Output)
	}
	var ro provider.RotateOptions
	if opts.RetireOldAfter != "" {
		d, err := durations.Parse(opts.RetireOldAfter)
		if err != nil {
			return errs.New(errs.KindUsage, "--retire-old-after: %w", err)
		}
		if d <= 0 {
			// 0 would quietly mean "do not retire", the opposite of asking.
			return errs.New(errs.KindUsage, "--retire-old-after: want a positive duration such as 24h, got %q; leave the flag out to keep the old keys", opts.RetireOldAfter)
		}
		ro.RetireOldAfter = d
	}
	ro.RestartServices = opts.RestartServices
	timeout, err := durations.Parse(opts.JWKSTimeout)
	if err != nil || timeout <= 0 {
		return errs.New(errs.KindUsage, "--jwks-timeout: want a positive duration such as 2m, got %q", opts.JWKSTimeout)
	}
	prov, p, err := opts.Provider(ctx)
	if err != nil {
		return err
	}
	kr, err := registry.KeyRotator(prov)
	if err != nil {
		return err
	}
	errP := ui.New(opts.IO.ErrOut, opts.IO.ColorEnabledStderr())
	planP := errP
	if opts.DryRun && opts.Output == "text" {
		planP = ui.New(opts.IO.Out, opts.IO.ColorEnabled())
	}
	uc := &admin.Rotate{
		Guard:   cli.AdminGuard(opts.IO, opts.Yes, func() (admin.Recorder, error) { return opts.Audit() }, opts.now),
		Rotator: kr, Profile: p.Name, Use: opts.Use, Options: ro, DryRun: opts.DryRun, Sleep: opts.sleep,
		Show: func(plan *provider.RotatePlan) {
			if opts.Output == "text" || !opts.DryRun {
				writePlan(planP, prov.Name(), p.Name, plan)
			}
		},
	}
	o, err := uc.Run(ctx)
	if err != nil {
		return err
	}
	plan := o.Plan
	res := result{Use: opts.Use, DryRun: opts.DryRun, Calls: plan.Calls, Consequences: plan.Consequences}
	if o.Rotated == nil {
		// The plan read the current keys; nothing was written.
		errP.Println("Dry run: nothing was changed.")
		return writeJSON(opts, res)
	}
	rotated, rotatedAt, auditErr := o.Rotated, o.RotatedAt, o.AuditErr
	res.NewKID, res.Retired, res.Notes, res.JWKSURL = rotated.NewKID, rotated.Retired, rotated.Notes, rotated.JWKSURL

	out := ui.New(opts.IO.Out, opts.IO.ColorEnabled())
	if opts.Output == "text" {
		pairs := []ui.Pair{{Key: "new key", Value: orText(rotated.NewKID, "(the IdP did not say)")}}
		if len(rotated.Retired) > 0 {
			pairs = append(pairs, ui.Pair{Key: "retired", Value: strings.Join(rotated.Retired, ", ")})
		}
		out.Println(out.Success("Rotated") + fmt.Sprintf(" the %s key at %s:", opts.Use, prov.Name()))
		out.KeyValues(pairs)
		for _, n := range rotated.Notes {
			out.Println(out.Dim("note: " + n))
		}
	}

	if rotated.JWKSURL == "" || rotated.NewKID == "" {
		errP.Println(errP.Dim("The IdP publishes no JWKS to check, or did not name the new key; not waiting for publication."))
		if uc.Retires() {
			errP.Println(errP.Warning("The previous keys were kept:") + " they are retired only once the new key is seen published.")
		}
		if err := writeJSON(opts, res); err != nil {
			return err
		}
		return auditErr
	}
	hc, err := opts.HTTP(p)
	if err != nil {
		return err
	}
	fetch := func(ctx context.Context) ([]byte, error) {
		resp, err := hc.Fetch(ctx, rotated.JWKSURL)
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	}
	if opts.Output == "text" && opts.IO.IsStderrTTY() {
		errP.Printf("Waiting up to %s for %s to appear in %s ...\n", durations.Format(timeout), rotated.NewKID, rotated.JWKSURL)
	}
	polls, err := uc.WaitPublished(ctx, o, fetch, timeout, opts.interval())
	published := err == nil
	res.Published = &published
	if published {
		after := opts.now().Sub(rotatedAt).Seconds()
		res.PublishedAfter = &after
		if opts.Output == "text" {
			out.Printf("%s %s is published in %s (after %s).\n", out.Success("Published:"), rotated.NewKID, rotated.JWKSURL, plural(polls, "fetch", "fetches"))
		}
	}
	if published && uc.Retires() {
		if rerr := opts.retire(ctx, uc, o, &res, out, errP); rerr != nil {
			_ = writeJSON(opts, res)
			return rerr
		}
	} else if uc.Retires() {
		errP.Println(errP.Warning("The previous keys were kept:") + " the new key was not seen published.")
	}
	if jerr := writeJSON(opts, res); jerr != nil {
		return jerr
	}
	if err != nil {
		return err
	}
	return auditErr
}

// retire reports the wait before the previous keys are retired, and
// what the retirement did.
func (opts *RegenOptions) retire(ctx context.Context, uc *admin.Rotate, o *admin.RotateOutcome, res *result, out, errP *ui.Printer) error {
	wait := uc.Options.RetireOldAfter
	if opts.Output == "text" {
		errP.Printf("Waiting %s before retiring the previous keys (until %s); Ctrl-C keeps them.\n",
			durations.Format(wait), opts.now().Add(wait).Local().Format(time.RFC1123))
	}
	err := uc.RetireOld(ctx, o)
	if after := o.Retirement; after != nil {
		res.Retired, res.Notes = after.Retired, after.Notes
	}
	if err != nil {
		return err
	}
	if opts.Output == "text" {
		if len(res.Retired) > 0 {
			out.Printf("%s %s\n", out.Success("Retired:"), strings.Join(res.Retired, ", "))
		}
		for _, n := range res.Notes {
			out.Println(out.Dim("note: " + n))
		}
	}
	return nil
}

func (opts *RegenOptions) now() time.Time {
	if opts.Now != nil {
		return opts.Now()
	}
	return time.Now()
}

func (opts *RegenOptions) interval() time.Duration {
	if opts.PollInterval > 0 {
		return opts.PollInterval
	}
	return DefaultPollInterval
}

func (opts *RegenOptions) sleep(ctx context.Context, d time.Duration) error {
	if opts.Sleep != nil {
		return opts.Sleep(ctx, d)
	}
	return durations.Sleep(ctx, d)
}

func writePlan(p *ui.Printer, provName, profile string, plan *provider.RotatePlan) {
	p.Println(p.Heading(fmt.Sprintf("Plan: rotate the %s key at %s (profile %s)", plan.Use, provName, profile)))
	for _, c := range plan.Calls {
		p.Printf("  %s\n", c.String())
	}
	if len(plan.Consequences) > 0 {
		p.Println("Consequences:")
		for _, c := range plan.Consequences {
			p.Printf("  - %s\n", c)
		}
	}
}

func writeJSON(opts *RegenOptions, res result) error {
	if opts.Output != "json" {
		return nil
	}
	enc := json.NewEncoder(opts.IO.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
