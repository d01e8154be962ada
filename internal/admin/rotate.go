package admin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/audit"
	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// KeyRotator is what Rotate needs of an adapter: the planning and
// rotating half of provider.KeyRotator.
type KeyRotator interface {
	Name() string
	PlanRotate(ctx context.Context, use provider.KeyUse, opts provider.RotateOptions) (*provider.RotatePlan, error)
	Rotate(ctx context.Context, plan *provider.RotatePlan) (*provider.RotateResult, error)
}

// Rotate replaces the IdP's signing or encryption key: plan, show,
// confirm, rotate and record; then, in steps the command reports on,
// wait until the new key is published and, with Options.RetireOldAfter,
// wait that long more and retire the keys it replaced.
type Rotate struct {
	Guard   *Guard
	Rotator KeyRotator
	Profile string
	Use     provider.KeyUse
	Options provider.RotateOptions
	DryRun  bool
	// Show presents the plan before the question.
	Show func(*provider.RotatePlan)
	// Sleep waits, or fails when ctx ends; nil is a timer.
	Sleep func(context.Context, time.Duration) error

	record func(audit.Entry) error
}

// RotateOutcome is what Rotate did so far.
type RotateOutcome struct {
	Plan *provider.RotatePlan
	// Rotated is set once the IdP rotated, at RotatedAt.
	Rotated   *provider.RotateResult
	RotatedAt time.Time
	// Retirement is what the IdP answered to the retirement, once asked.
	Retirement *provider.RotateResult
	// AuditErr is a failed append of the rotation's record.
	AuditErr error
}

// retirer is the adapter's KeyRetirer when the options ask for one.
func (u *Rotate) retirer() (provider.KeyRetirer, error) {
	if u.Options.RetireOldAfter <= 0 {
		return nil, nil
	}
	r, ok := u.Rotator.(provider.KeyRetirer)
	if !ok {
		return nil, provider.Unsupported(u.Rotator.Name(), "retiring the previous keys (--retire-old-after)",
			"rotate without it; the plan's consequences (--dry-run) say what becomes of the old key at this IdP")
	}
	return r, nil
}

// Retires says whether RetireOld will run once the new key is published.
func (u *Rotate) Retires() bool { return u.Options.RetireOldAfter > 0 }

// Run plans and, unless it is a dry run, rotates. The rotation is
// recorded as soon as it is done, before any waiting.
func (u *Rotate) Run(ctx context.Context) (*RotateOutcome, error) {
	out := &RotateOutcome{}
	var rotateErr error
	res, err := u.Guard.Run(ctx, Action{
		DryRun: u.DryRun,
		Plan: func(ctx context.Context) (Plan, error) {
			plan, err := u.Rotator.PlanRotate(ctx, u.Use, u.Options)
			if err != nil {
				// An IdP that cannot rotate this key says so in its own
				// words, before anything is said about retiring.
				return Plan{}, err
			}
			// Retiring needs its own capability; refuse before anything
			// changes rather than after the new key is in place.
			if _, err := u.retirer(); err != nil {
				return Plan{}, err
			}
			out.Plan = plan
			return Plan{Question: fmt.Sprintf("Rotate the %s key at %s (profile %s)?", u.Use, u.Rotator.Name(), u.Profile), Destructive: plan.Destructive}, nil
		},
		Describe: func(Plan) {
			if u.Show != nil {
				u.Show(out.Plan)
			}
		},
		Act: func(ctx context.Context, record func(audit.Entry) error) error {
			u.record = record
			rotated, err := u.Rotator.Rotate(ctx, out.Plan)
			if err != nil {
				rotateErr = err
				return fmt.Errorf("rotating the %s key: %w", u.Use, err)
			}
			out.Rotated, out.RotatedAt = rotated, u.Guard.now()
			return nil
		},
		Record: func(error) *audit.Entry {
			e := &audit.Entry{Profile: u.Profile, Provider: u.Rotator.Name(), Action: audit.ActionRotateKey, Detail: string(u.Use) + " key"}
			if rotateErr != nil {
				e.Result, e.Detail = "failed", e.Detail+": "+rotateErr.Error()
				return e
			}
			e.Result = "rotated"
			if out.Rotated.NewKID != "" {
				e.Detail += "; new kid " + out.Rotated.NewKID
			}
			if len(out.Rotated.Retired) > 0 {
				e.Detail += "; retired " + strings.Join(out.Rotated.Retired, ", ")
			}
			return e
		},
	})
	out.AuditErr = res.AuditErr
	return out, err
}

// WaitPublished fetches the JWKS the rotation named until it lists the
// new key id, and returns how many fetches it took.
func (u *Rotate) WaitPublished(ctx context.Context, o *RotateOutcome, fetch func(context.Context) ([]byte, error), timeout, interval time.Duration) (int, error) {
	return WaitForKID(ctx, fetch, o.Rotated.NewKID, timeout, interval, u.Guard.now, u.sleep)
}

// RetireOld waits Options.RetireOldAfter, then withdraws the keys the
// rotation replaced, and records that. Call it only once the new key is
// seen published. Ctrl-C during the wait keeps them, and says so.
func (u *Rotate) RetireOld(ctx context.Context, o *RotateOutcome) error {
	retirer, err := u.retirer()
	if err != nil || retirer == nil {
		return err
	}
	if err := u.sleep(ctx, u.Options.RetireOldAfter); err != nil {
		return errs.Wrap(errs.KindInterrupted, fmt.Errorf("the new key %s is in use; the previous keys were kept: %w", o.Rotated.NewKID, err))
	}
	after, err := retirer.RetireKeys(ctx, o.Plan, o.Rotated)
	entry := audit.Entry{Profile: u.Profile, Provider: u.Rotator.Name(), Action: audit.ActionRotateKey, Detail: string(u.Use) + " key: retire previous keys"}
	o.Retirement = after
	if err != nil {
		entry.Result, entry.Detail = "failed", entry.Detail+": "+err.Error()
		u.recordLate(entry)
		return fmt.Errorf("retiring the previous %s keys: %w", u.Use, err)
	}
	entry.Result = "retired"
	retired := o.Rotated.Retired
	if after != nil {
		retired = after.Retired
	}
	if len(retired) > 0 {
		entry.Detail += " " + strings.Join(retired, ", ")
	}
	u.recordLate(entry)
	return nil
}

// recordLate appends a record of a step after the guarded act; a failure
// is a warning, as the step is done.
func (u *Rotate) recordLate(e audit.Entry) {
	if err := u.record(e); err != nil && u.Guard.Warn != nil {
		u.Guard.Warn(err)
	}
}

func (u *Rotate) sleep(ctx context.Context, d time.Duration) error {
	if u.Sleep != nil {
		return u.Sleep(ctx, d)
	}
	return durations.Sleep(ctx, d)
}
