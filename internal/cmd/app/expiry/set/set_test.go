package set

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/audit"
	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
)

// fakeManager holds one app's lifetimes in minutes, Okta-style, and counts
// writes.
type fakeManager struct {
	mu          sync.Mutex
	cur         provider.Lifetimes
	applies     int
	destructive bool
	// readBack, when set, replaces what a read after the write returns.
	readBack  func(l provider.Lifetimes) provider.Lifetimes
	gotChange provider.LifetimeChange
}

func newFake() *fakeManager {
	on := true
	return &fakeManager{cur: provider.Lifetimes{
		App:          "payroll",
		AccessToken:  provider.Lifetime{Value: time.Hour, Known: true, Source: provider.SourceInherited, From: "default policy", Native: "60 minutes"},
		RefreshToken: provider.Lifetime{Value: 90 * 24 * time.Hour, Known: true, Source: provider.SourceApp, Native: "129600 minutes"},
		RefreshIdle:  provider.Lifetime{Value: 7 * 24 * time.Hour, Known: true, Source: provider.SourceApp, Native: "10080 minutes"},
		Rotation:     &on, RotationSource: provider.SourceApp,
	}}
}

func (f *fakeManager) Name() string { return "fake" }
func (f *fakeManager) ListApps(context.Context) ([]provider.App, error) {
	return []provider.App{{ID: "payroll"}}, nil
}
func (f *fakeManager) GetExpiry(context.Context, string) (*provider.Lifetimes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.cur
	return &l, nil
}
func (f *fakeManager) PlanExpiry(_ context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	f.gotChange = ch
	before, _ := f.GetExpiry(context.Background(), app)
	after := *before
	if ch.AccessToken != nil {
		// Okta counts minutes: the plan shows the value after rounding.
		after.AccessToken = provider.Lifetime{Value: ch.AccessToken.Round(time.Minute), Known: true, Source: provider.SourceApp}
	}
	if ch.RefreshToken != nil {
		after.RefreshToken = provider.Lifetime{Value: *ch.RefreshToken, Known: true, Source: provider.SourceApp}
	}
	if ch.Rotation != nil {
		after.Rotation = ch.Rotation
	}
	return &provider.ExpiryPlan{App: app, Before: *before, After: after, Destructive: f.destructive,
		Calls:    []provider.Call{{Method: "PUT", Path: "/api/v1/authorizationServers/default/policies/p1/rules/r1", Purpose: "replace the rule"}},
		Warnings: []string{"the rule applies to 2 other apps too"}}, nil
}
func (f *fakeManager) ApplyExpiry(_ context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	f.mu.Lock()
	f.applies++
	f.cur = plan.After
	f.mu.Unlock()
	l, _ := f.GetExpiry(context.Background(), plan.App)
	if f.readBack != nil {
		*l = f.readBack(*l)
	}
	return l, nil
}

type memAudit struct{ entries []audit.Entry }

func (m *memAudit) Check() error               { return nil }
func (m *memAudit) Append(e audit.Entry) error { m.entries = append(m.entries, e); return nil }

func setup(f *fakeManager) (*SetOptions, *iostreams.IOStreams, *memAudit) {
	ios, _, _, _ := iostreams.Test()
	a := &memAudit{}
	return &SetOptions{
		IO: ios,
		Provider: func(context.Context) (provider.Provider, *config.Resolved, error) {
			return f, &config.Resolved{Name: "prod"}, nil
		},
		Audit: func() (Auditor, error) { return a, nil },
		Now:   time.Now,
		App:   "payroll", Output: "text",
	}, ios, a
}

func stdout(ios *iostreams.IOStreams) string { return ios.Out.(interface{ String() string }).String() }
func stderr(ios *iostreams.IOStreams) string {
	return ios.ErrOut.(interface{ String() string }).String()
}

func TestTheDiffMarksWhatChangesAndADryRunWritesNothing(t *testing.T) {
	f := newFake()
	opts, ios, a := setup(f)
	opts.AccessToken, opts.Rotation, opts.DryRun = "15m", "off", true
	if err := setRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(stdout(ios), "\n")
	find := func(setting string) string {
		for _, l := range lines {
			if strings.Contains(l, setting+"  ") {
				return l
			}
		}
		t.Fatalf("no row %q in\n%s", setting, stdout(ios))
		return ""
	}
	if row := find("access token"); !strings.HasPrefix(row, "*") || !strings.Contains(row, "1h") || !strings.Contains(row, "15m") {
		t.Errorf("access token row %q", row)
	}
	if row := find("refresh token rotation"); !strings.HasPrefix(row, "*") || !strings.Contains(row, "on") || !strings.Contains(row, "off") {
		t.Errorf("rotation row %q", row)
	}
	if row := find("refresh token idle"); strings.HasPrefix(row, "*") {
		t.Errorf("an unchanged row is marked: %q", row)
	}
	if !strings.Contains(stderr(ios), "the rule applies to 2 other apps too") || !strings.Contains(stderr(ios), "Dry run") {
		t.Errorf("stderr %q", stderr(ios))
	}
	if f.applies != 0 || len(a.entries) != 0 {
		t.Fatalf("a dry run applied %d times and audited %d", f.applies, len(a.entries))
	}
}

func TestAnAppliedChangeIsReadBackAndAudited(t *testing.T) {
	f := newFake()
	opts, ios, a := setup(f)
	opts.AccessToken, opts.RefreshToken, opts.Yes, opts.Output = "15m", "2w", true, "json"
	if err := setRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Applied  bool `json:"applied"`
		Changes  []struct{ Setting, Before, After string }
		ReadBack struct {
			AccessToken struct {
				Seconds int64  `json:"seconds"`
				Human   string `json:"human"`
			} `json:"access_token"`
		} `json:"read_back"`
	}
	if err := json.Unmarshal([]byte(stdout(ios)), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout(ios))
	}
	if !res.Applied || len(res.Changes) != 2 || res.ReadBack.AccessToken.Seconds != 900 || res.ReadBack.AccessToken.Human != "15m" {
		t.Fatalf("result %+v", res)
	}
	if f.applies != 1 || len(a.entries) != 1 || a.entries[0].Result != "applied" || a.entries[0].Action != audit.ActionSetExpiry || a.entries[0].App != "payroll" ||
		!strings.Contains(a.entries[0].Detail, "access token 1h -> 15m") {
		t.Fatalf("applies %d, audit %+v", f.applies, a.entries)
	}
}

func TestAReadBackThatDiffersFromThePlanFails(t *testing.T) {
	f := newFake()
	f.readBack = func(l provider.Lifetimes) provider.Lifetimes {
		l.AccessToken.Value = time.Hour // the IdP silently kept its old value
		return l
	}
	opts, _, a := setup(f)
	opts.AccessToken, opts.Yes = "15m", true
	err := setRun(context.Background(), opts)
	if cli.ExitCode(err) != cli.ExitError || err == nil || !strings.Contains(err.Error(), "access token is 1h, planned 15m") {
		t.Fatalf("err = %v", err)
	}
	if len(a.entries) != 1 || a.entries[0].Result != "mismatch" {
		t.Fatalf("audit %+v", a.entries)
	}
}

func TestADestructivePlanNeedsYesEvenAtATerminal(t *testing.T) {
	f := newFake()
	f.destructive = true
	opts, ios, _ := setup(f)
	ios.SetTTY(true, true, true)
	ios.In.(interface{ WriteString(string) (int, error) }).WriteString("y\n")
	opts.RefreshToken = "30d"
	err := setRun(context.Background(), opts)
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "--yes") || f.applies != 0 {
		t.Fatalf("err %v, applies %d", err, f.applies)
	}
	opts.Yes = true
	if err := setRun(context.Background(), opts); err != nil || f.applies != 1 {
		t.Fatalf("with --yes: %v, applies %d", err, f.applies)
	}
}

func TestWithoutATerminalAndWithoutYesNothingIsWritten(t *testing.T) {
	f := newFake()
	opts, _, _ := setup(f)
	opts.AccessToken = "15m"
	if err := setRun(context.Background(), opts); cli.ExitCode(err) != cli.ExitUsage || f.applies != 0 {
		t.Fatalf("err %v, applies %d", err, f.applies)
	}
}

func TestFlagsAreParsedIntoTheChange(t *testing.T) {
	f := newFake()
	opts, _, _ := setup(f)
	opts.AccessToken, opts.RefreshIdle, opts.API, opts.SharedRuleOK, opts.DryRun = "90m", "604800", "https://api", true, true
	if err := setRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	ch := f.gotChange
	if *ch.AccessToken != 90*time.Minute || *ch.RefreshIdle != 7*24*time.Hour || ch.RefreshToken != nil || ch.Options["api"] != "https://api" || ch.Options["shared_rule_ok"] != "true" {
		t.Fatalf("change %+v", ch)
	}
	for _, bad := range []SetOptions{{}, {AccessToken: "1.5h"}, {Rotation: "maybe"}, {AccessToken: "15m", Output: "yaml"}} {
		o, _, _ := setup(f)
		o.AccessToken, o.Rotation = bad.AccessToken, bad.Rotation
		if bad.Output != "" {
			o.Output = bad.Output
		}
		if err := setRun(context.Background(), o); cli.ExitCode(err) != cli.ExitUsage {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestTheCommandFillsTheOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	fac := cli.New(ios, func(string) string { return "" }, "test")
	var got *SetOptions
	cmd := NewCmdSet(fac, func(_ context.Context, o *SetOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"app1", "--access-token", "15m", "--refresh-token", "7d", "--refresh-idle", "1d", "--rotation", "on", "--api", "x", "--shared-rule-ok", "--dry-run", "--yes", "-o", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.App != "app1" || got.AccessToken != "15m" || got.RefreshToken != "7d" || got.RefreshIdle != "1d" || got.Rotation != "on" || got.API != "x" || !got.SharedRuleOK || !got.DryRun || !got.Yes || got.Output != "json" {
		t.Fatalf("%+v", got)
	}
}
