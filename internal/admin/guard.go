// Package admin holds the admin use cases (revoke users, set expiry,
// rotate keys) and the one guarded runner they share: the audit log is
// checked, the plan is built and shown, the user confirms, the action runs
// and its result is recorded. Commands only parse flags and render.
package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/idpctl/idpctl/internal/audit"
)

// Recorder is the audit log as the use cases see it.
type Recorder interface {
	// Check proves the log can be written before anything changes.
	Check() error
	Append(audit.Entry) error
}

// Confirmer asks before a change. A destructive change, or one with no
// terminal to ask on, is refused unless confirmed up front (--yes).
type Confirmer interface {
	Confirm(destructive bool, question string) error
}

// ConfirmFunc adapts a function to Confirmer.
type ConfirmFunc func(destructive bool, question string) error

// Confirm calls f.
func (f ConfirmFunc) Confirm(destructive bool, question string) error {
	return f(destructive, question)
}

// Plan is what Guard needs of an action's plan to guard it.
type Plan struct {
	// Question is asked before acting.
	Question string
	// Destructive needs confirmation up front, even at a terminal.
	Destructive bool
	// NothingToDo stops after the plan is shown: there is nothing to send.
	NothingToDo bool
}

// Action is one guarded admin action, in the order Guard runs its parts.
type Action struct {
	// DryRun builds and shows the plan, and neither opens the audit log
	// nor sends or records anything.
	DryRun bool
	// Plan builds the plan; it may read from the IdP but changes nothing.
	Plan func(ctx context.Context) (Plan, error)
	// Describe shows the plan; optional.
	Describe func(Plan)
	// Refused runs when the action is not confirmed, to undo what
	// planning prepared (a journal of a run that never started); optional.
	Refused func()
	// Act changes the IdP. record appends further entries (one per user
	// of a bulk run, a later step) stamped with the clock.
	Act func(ctx context.Context, record func(audit.Entry) error) error
	// Record is the entry of the act's outcome, a failure included; nil
	// records nothing more than Act did.
	Record func(actErr error) *audit.Entry
}

// Outcome says how far a guarded run went.
type Outcome int

// Outcomes.
const (
	// Shown: a dry run, or nothing to do; the plan was shown only.
	Shown Outcome = iota
	// Acted: the action ran (it may have failed: see the error).
	Acted
)

// Result is what Run reports besides the act's error.
type Result struct {
	Outcome Outcome
	// AuditErr is the first failure to append the outcome's record: the
	// change is made, so it is reported after the command's output.
	AuditErr error
}

// Guard runs admin actions: audit check, plan, confirm, act, record.
type Guard struct {
	// Audit opens the audit log; only a run that may change the IdP opens it.
	Audit   func() (Recorder, error)
	Confirm Confirmer
	Now     func() time.Time
	// Warn hears a failed append of the outcome's record; optional.
	Warn func(error)
}

// Run runs a. The audit log is checked before anything is planned, so an
// action whose record cannot be written never starts; a failed act is
// still recorded.
func (g *Guard) Run(ctx context.Context, a Action) (Result, error) {
	var rec Recorder
	if !a.DryRun {
		r, err := g.Audit()
		if err != nil {
			return Result{}, err
		}
		if err := r.Check(); err != nil {
			return Result{}, fmt.Errorf("%w; admin actions are not run without their audit record", err)
		}
		rec = r
	}
	plan, err := a.Plan(ctx)
	if err != nil {
		return Result{}, err
	}
	if a.Describe != nil {
		a.Describe(plan)
	}
	if a.DryRun || plan.NothingToDo {
		return Result{Outcome: Shown}, nil
	}
	if err := g.Confirm.Confirm(plan.Destructive, plan.Question); err != nil {
		if a.Refused != nil {
			a.Refused()
		}
		return Result{}, err
	}
	record := func(e audit.Entry) error {
		if e.Time.IsZero() {
			e.Time = g.now()
		}
		return rec.Append(e)
	}
	actErr := a.Act(ctx, record)
	res := Result{Outcome: Acted}
	if a.Record != nil {
		if e := a.Record(actErr); e != nil {
			if err := record(*e); err != nil {
				res.AuditErr = err
				if g.Warn != nil {
					g.Warn(err)
				}
			}
		}
	}
	return res, actErr
}

func (g *Guard) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}
