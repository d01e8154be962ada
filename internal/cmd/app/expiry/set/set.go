// Package set implements `idpctl app expiry set`.
package set

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
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/registry"
	"github.com/idpctl/idpctl/internal/ui"
	view "github.com/idpctl/idpctl/internal/ui/lifetimes"
)

// Auditor records admin actions.
type Auditor = admin.Recorder

// SetOptions are the inputs of app expiry set.
type SetOptions struct {
	IO       *iostreams.IOStreams
	Provider func(context.Context) (provider.Provider, *config.Resolved, error)
	Audit    func() (Auditor, error)
	Now      func() time.Time

	App          string
	AccessToken  string
	RefreshToken string
	RefreshIdle  string
	Rotation     string
	API          string
	SharedRuleOK bool
	DryRun       bool
	Yes          bool
	Output       string
}

// NewCmdSet builds the command.
func NewCmdSet(f *cli.Factory, runF func(context.Context, *SetOptions) error) *cobra.Command {
	opts := &SetOptions{IO: f.IOStreams, Provider: f.Provider, Now: f.Now,
		Audit: func() (Auditor, error) { return f.AuditLog() }}
	cmd := &cobra.Command{
		Use:   "set APP",
		Short: "Change an application's token lifetimes, with a diff, a confirmation and a read-back",
		Long: `Change an application's token lifetimes through the provider's admin API.

The current settings are read first and the change is checked against the
IdP's allowed ranges and units; a before/after table marks what changes.
Then idpctl asks (or takes --yes), writes the settings back whole (several
APIs replace the entire object, so unrelated fields are sent back as they
were), reads them again and fails with exit code 1 if the IdP holds
anything other than what was planned. --dry-run stops after the diff.

Durations are typed as 90m, 7d, 2w, 604800s, 1h30m or plain seconds. A
change the provider marks as reaching beyond the app (a cluster- or
tenant-wide setting whose change revokes tokens) needs --yes even at a
terminal.
Every applied change is recorded in the audit log.`,
		Example: `  idpctl app expiry set payroll-app --access-token 15m --refresh-token 7d --dry-run
  idpctl app expiry set payroll-app --access-token 15m --refresh-idle 24h --rotation on
  idpctl app expiry set payroll-app --access-token 1h --api https://api.example.com --yes   # Auth0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.App = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return setRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	durations.TextVar(fl, &opts.AccessToken, "access-token", "", "access-token lifetime (e.g. 15m, 1h)")
	durations.TextVar(fl, &opts.RefreshToken, "refresh-token", "", "refresh-token lifetime (e.g. 7d, 90d; 0 where the IdP allows unlimited)")
	durations.TextVar(fl, &opts.RefreshIdle, "refresh-idle", "", "how long an unused refresh token stays valid (e.g. 24h)")
	fl.StringVar(&opts.Rotation, "rotation", "", "refresh-token rotation: on or off")
	fl.StringVar(&opts.API, "api", "", "the API (resource server) whose access-token lifetime to change, where the IdP sets it there (auth0)")
	fl.BoolVar(&opts.SharedRuleOK, "shared-rule-ok", false, "allow changing a policy rule that other apps share too (okta)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "show the diff and change nothing (the current lifetimes are read to compute it)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation (required without a terminal, and for destructive changes)")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	_ = cmd.RegisterFlagCompletionFunc("rotation", cobra.FixedCompletions([]string{"on", "off"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// change turns the flags into the model's change.
func (opts *SetOptions) change() (provider.LifetimeChange, error) {
	var ch provider.LifetimeChange
	parse := func(flag, v string, dst **time.Duration) error {
		if v == "" {
			return nil
		}
		d, err := durations.Parse(v)
		if err != nil {
			return errs.New(errs.KindUsage, "--%s: %w", flag, err)
		}
		*dst = &d
		return nil
	}
	if err := parse("access-token", opts.AccessToken, &ch.AccessToken); err != nil {
		return ch, err
	}
	if err := parse("refresh-token", opts.RefreshToken, &ch.RefreshToken); err != nil {
		return ch, err
	}
	if err := parse("refresh-idle", opts.RefreshIdle, &ch.RefreshIdle); err != nil {
		return ch, err
	}
	switch strings.ToLower(opts.Rotation) {
	case "":
	case "on", "true", "yes":
		b := true
		ch.Rotation = &b
	case "off", "false", "no":
		b := false
		ch.Rotation = &b
	default:
		return ch, errs.New(errs.KindUsage, "--rotation takes on or off, not %q", opts.Rotation)
	}
	if ch.AccessToken == nil && ch.RefreshToken == nil && ch.RefreshIdle == nil && ch.Rotation == nil {
		return ch, errs.New(errs.KindUsage, "nothing to change: give --access-token, --refresh-token, --refresh-idle or --rotation")
	}
	ch.Options = map[string]string{}
	if opts.API != "" {
		ch.Options["api"] = opts.API
	}
	if opts.SharedRuleOK {
		ch.Options["shared_rule_ok"] = "true"
	}
	return ch, nil
}

// result is the JSON output.
type result struct {
	App      string              `json:"app"`
	Provider string              `json:"provider"`
	DryRun   bool                `json:"dry_run"`
	Changes  []view.Change       `json:"changes"`
	Before   view.LifetimesJSON  `json:"before"`
	After    view.LifetimesJSON  `json:"after"`
	Calls    []provider.Call     `json:"calls"`
	Warnings []string            `json:"warnings,omitempty"`
	Applied  bool                `json:"applied"`
	ReadBack *view.LifetimesJSON `json:"read_back,omitempty"`
	Mismatch []view.Change       `json:"mismatch,omitempty"`
}

func setRun(ctx context.Context, opts *SetOptions) error {
	if opts.Output != "text" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text or json", opts.Output)
	}
	ch, err := opts.change()
	if err != nil {
		return err
	}
	prov, p, err := opts.Provider(ctx)
	if err != nil {
		return err
	}
	mgr, err := registry.ExpiryManager(prov)
	if err != nil {
		return err
	}
	out := ui.ForStdout(opts.IO)
	errP := ui.New(opts.IO.ErrOut, opts.IO.ColorEnabledStderr())
	var changes []view.Change
	uc := &admin.SetExpiry{
		Guard:   cli.AdminGuard(opts.IO, opts.Yes, func() (admin.Recorder, error) { return opts.Audit() }, opts.Now),
		Manager: mgr, Profile: p.Name, App: opts.App, Change: ch, DryRun: opts.DryRun,
		Diff: func(before, after *provider.Lifetimes) (int, string) {
			changes = view.Diff(before, after)
			return len(changes), view.DiffText(changes)
		},
		Mismatch: func(ch provider.LifetimeChange, planned, got *provider.Lifetimes) string {
			if m := mismatches(ch, planned, got); len(m) > 0 {
				return view.DiffText(m)
			}
			return ""
		},
		Show: func(plan *provider.ExpiryPlan) {
			if opts.Output == "text" {
				writeDiff(out, plan)
			}
			for _, w := range plan.Warnings {
				errP.Println(errP.Warning("warning: ") + w)
			}
			if opts.Output == "text" && len(plan.Calls) > 0 {
				errP.Println("The change sends:")
				for _, c := range plan.Calls {
					errP.Printf("  %s\n", c.String())
				}
			}
		},
	}
	o, err := uc.Run(ctx)
	if o.Plan == nil || (err != nil && !o.Applied) {
		return err
	}
	plan := o.Plan
	res := result{App: opts.App, Provider: prov.Name(), DryRun: opts.DryRun, Changes: changes, Before: view.ToJSON(&plan.Before), After: view.ToJSON(&plan.After), Calls: plan.Calls, Warnings: plan.Warnings}
	if !o.Applied {
		if len(changes) == 0 {
			errP.Println("Nothing changes: the app already has these settings.")
		} else {
			errP.Println("Dry run: nothing was changed.")
		}
		return writeJSON(opts, res)
	}
	got := o.ReadBack
	res.Applied = true
	rb := view.ToJSON(got)
	res.ReadBack = &rb
	res.Mismatch = mismatches(ch, &plan.After, got)
	if opts.Output == "text" {
		out.Println()
		out.Println(out.Heading("Read back from " + prov.Name() + ":"))
		writeReadBack(out, got)
	}
	if err := writeJSON(opts, res); err != nil {
		return err
	}
	if len(res.Mismatch) > 0 {
		var parts []string
		for _, m := range res.Mismatch {
			parts = append(parts, fmt.Sprintf("%s is %s, planned %s", m.Setting, m.After, m.Before))
		}
		return fmt.Errorf("the IdP holds other values than planned after the change: %s", strings.Join(parts, "; "))
	}
	return o.AuditErr
}

// mismatches compares the read-back with the plan on the settings the
// change named; Before is the planned value and After the one read back.
func mismatches(ch provider.LifetimeChange, planned, got *provider.Lifetimes) []view.Change {
	var out []view.Change
	check := func(asked bool, name string, want, have provider.Lifetime) {
		if asked && !view.Same(want, have) {
			out = append(out, view.Change{Setting: name, Before: view.Value(want), After: view.Value(have)})
		}
	}
	check(ch.AccessToken != nil, view.AccessToken, planned.AccessToken, got.AccessToken)
	check(ch.RefreshToken != nil, view.RefreshToken, planned.RefreshToken, got.RefreshToken)
	check(ch.RefreshIdle != nil, view.RefreshIdle, planned.RefreshIdle, got.RefreshIdle)
	if ch.Rotation != nil && !view.SameRotation(planned.Rotation, got.Rotation) {
		out = append(out, view.Change{Setting: view.Rotation, Before: view.RotationText(planned.Rotation), After: view.RotationText(got.Rotation)})
	}
	return out
}

func writeJSON(opts *SetOptions, res result) error {
	if opts.Output != "json" {
		return nil
	}
	enc := json.NewEncoder(opts.IO.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// writeDiff prints before and after side by side, marking changed rows.
func writeDiff(p *ui.Printer, plan *provider.ExpiryPlan) {
	before, after := view.Rows(&plan.Before), view.Rows(&plan.After)
	rows := [][]string{}
	for i := range before {
		mark := " "
		if before[i].Value != after[i].Value || before[i].Source != after[i].Source {
			mark = "*"
		}
		rows = append(rows, []string{mark, before[i].Setting, before[i].Value, after[i].Value, after[i].Source})
	}
	p.Table([]string{" ", "SETTING", "BEFORE", "AFTER", "SOURCE AFTER"}, rows)
}

func writeReadBack(p *ui.Printer, l *provider.Lifetimes) {
	rows := [][]string{}
	for _, r := range view.Rows(l) {
		rows = append(rows, []string{r.Setting, r.Value, r.Native, r.Source})
	}
	p.Table([]string{"SETTING", "VALUE", "NATIVE", "SOURCE"}, rows)
}
