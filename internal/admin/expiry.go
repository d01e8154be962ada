package admin

import (
	"context"
	"fmt"

	"github.com/idpctl/idpctl/internal/audit"
	"github.com/idpctl/idpctl/internal/provider"
)

// ExpiryManager is what SetExpiry needs of an adapter: the planning and
// applying half of provider.AppExpiryManager.
type ExpiryManager interface {
	Name() string
	PlanExpiry(ctx context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error)
	ApplyExpiry(ctx context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error)
}

// SetExpiry changes an application's token lifetimes: plan (the IdP's
// current settings and the result), show, confirm, write, read back.
type SetExpiry struct {
	Guard   *Guard
	Manager ExpiryManager
	Profile string
	App     string
	Change  provider.LifetimeChange
	DryRun  bool
	// Diff counts the settings the plan changes and words them for the
	// audit record.
	Diff func(before, after *provider.Lifetimes) (n int, text string)
	// Mismatch words how the read-back differs from the plan on the
	// settings the change named; "" when it holds what was planned.
	Mismatch func(ch provider.LifetimeChange, planned, got *provider.Lifetimes) string
	// Show presents the plan before the question.
	Show func(*provider.ExpiryPlan)
}

// ExpiryOutcome is what SetExpiry did.
type ExpiryOutcome struct {
	Plan *provider.ExpiryPlan
	// Changes is how many settings the plan changes.
	Changes int
	// Applied is set once the IdP took the change; ReadBack is what it
	// holds then.
	Applied  bool
	ReadBack *provider.Lifetimes
	AuditErr error
}

// Run plans, and unless it is a dry run or nothing changes, applies.
func (u *SetExpiry) Run(ctx context.Context) (*ExpiryOutcome, error) {
	out := &ExpiryOutcome{}
	var detail string
	var applyErr error // the adapter's own words, as the audit record carries them
	res, err := u.Guard.Run(ctx, Action{
		DryRun: u.DryRun,
		Plan: func(ctx context.Context) (Plan, error) {
			plan, err := u.Manager.PlanExpiry(ctx, u.App, u.Change)
			if err != nil {
				return Plan{}, err
			}
			out.Plan = plan
			out.Changes, detail = u.Diff(&plan.Before, &plan.After)
			return Plan{
				Question:    fmt.Sprintf("Apply %d %s to %s at %s (profile %s)?", out.Changes, pluralWord(out.Changes, "change"), u.App, u.Manager.Name(), u.Profile),
				Destructive: plan.Destructive,
				NothingToDo: out.Changes == 0,
			}, nil
		},
		Describe: func(Plan) {
			if u.Show != nil {
				u.Show(out.Plan)
			}
		},
		Act: func(ctx context.Context, _ func(audit.Entry) error) error {
			got, err := u.Manager.ApplyExpiry(ctx, out.Plan)
			if err != nil {
				applyErr = err
				return fmt.Errorf("applying the change to %s: %w", u.App, err)
			}
			out.Applied, out.ReadBack = true, got
			return nil
		},
		Record: func(actErr error) *audit.Entry {
			e := &audit.Entry{Profile: u.Profile, Provider: u.Manager.Name(), Action: audit.ActionSetExpiry, App: u.App, Detail: detail}
			switch {
			case actErr != nil:
				e.Result, e.Detail = "failed", e.Detail+": "+applyErr.Error()
			default:
				if m := u.Mismatch(u.Change, &out.Plan.After, out.ReadBack); m != "" {
					e.Result, e.Detail = "mismatch", e.Detail+"; read back: "+m
				} else {
					e.Result = "applied"
				}
			}
			return e
		},
	})
	out.AuditErr = res.AuditErr
	return out, err
}

func pluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
