package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/idpctl/idpctl/internal/audit"
	"github.com/idpctl/idpctl/internal/offboard"
	"github.com/idpctl/idpctl/internal/provider"
)

// UserRevoker is what RevokeUsers needs of an adapter.
type UserRevoker interface {
	Name() string
	PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error)
	RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error)
}

// PlanShown is how many users' calls a plan spells out.
const PlanShown = 3

// UserPlan is the calls for one user.
type UserPlan struct {
	User  string          `json:"user"`
	Calls []provider.Call `json:"calls"`
}

// RevokePlan is what a bulk revocation will do.
type RevokePlan struct {
	// Users is how many users are left to run; Done how many an earlier
	// run of the same list finished (with a resumed journal).
	Users int
	Done  int
	// Plan spells out the first PlanShown users left.
	Plan []UserPlan
}

// JournalSpec names the journal of a run from a users file, so that an
// interrupted run can be resumed.
type JournalSpec struct {
	StateDir func() (string, error)
	Key      offboard.JournalKey
	Mode     offboard.JournalMode
	// Source names the list in messages (a path, or stdin).
	Source string
}

// RevokeUsers revokes the tokens of one user or a list of them: plan,
// show, confirm, then the offboard engine with its journal, recording
// every user's result in the audit log as it is final.
type RevokeUsers struct {
	Guard   *Guard
	Revoker UserRevoker
	Profile string
	// Request is the template: Client, Method and IncludeAppRoles apply
	// to every user.
	Request provider.RevokeUserRequest
	Users   []string
	// Journal, when set, keeps the run's progress in the state directory.
	Journal *JournalSpec
	DryRun  bool

	// Show presents the plan before the question.
	Show func(RevokePlan)
	// Watch runs once the run is confirmed and returns the context new
	// users are taken under (cancelled to stop taking them), a channel
	// closed to abort the calls in flight, and a function ending the watch.
	Watch func(ctx context.Context) (context.Context, <-chan struct{}, func())

	Parallel     int
	AllowMissing bool
	Now          func() time.Time
	Sleep        func(ctx context.Context, d time.Duration) error
	// Limiter paces the run; pass the one whose Observe the Revoker was
	// built with, so that the adapter's rate-limit headers pause the run
	// before a 429. Nil is a limiter that learns from 429s only.
	Limiter *offboard.Limiter
	// OnPause hears the limiter pause every worker.
	OnPause func(until time.Time, reason offboard.PauseReason)
	// OnResult hears each user's result after it is recorded.
	OnResult func(offboard.Result)
	// Warn hears a failure that does not stop the run: the first failed
	// audit append, a journal that could not be removed.
	Warn func(error)
}

// RevokeOutcome is what RevokeUsers did.
type RevokeOutcome struct {
	Plan RevokePlan
	// Summary is set once the engine ran.
	Summary  *offboard.Summary
	AuditErr error
}

func (u *RevokeUsers) planFor(users []string, req provider.RevokeUserRequest) ([]UserPlan, error) {
	var plan []UserPlan
	for _, user := range users[:min(PlanShown, len(users))] {
		r := req
		r.User = user
		calls, err := u.Revoker.PlanRevokeUser(r)
		if err != nil {
			return nil, err
		}
		plan = append(plan, UserPlan{User: user, Calls: calls})
	}
	return plan, nil
}

// Run plans and, unless it is a dry run, revokes.
func (u *RevokeUsers) Run(ctx context.Context) (*RevokeOutcome, error) {
	out := &RevokeOutcome{}
	var journal *offboard.Journal
	res, err := u.Guard.Run(ctx, Action{
		DryRun: u.DryRun,
		Plan: func(ctx context.Context) (Plan, error) {
			plan, err := u.planFor(u.Users, u.Request)
			if err != nil {
				return Plan{}, err
			}
			out.Plan = RevokePlan{Users: len(u.Users), Plan: plan}
			if u.DryRun || u.Journal == nil {
				return u.question(out.Plan), nil
			}
			j := u.Journal
			dir, err := j.StateDir()
			if err != nil {
				return Plan{}, err
			}
			if journal, err = offboard.OpenJournal(dir, j.Key, j.Mode, j.Source, len(u.Users), u.Guard.now()); err != nil {
				return Plan{}, err
			}
			if j.Mode == offboard.JournalResume {
				// The plan and the question count the users left, and
				// spell out the first of them, not the ones an earlier
				// run finished.
				var todo []string
				for _, user := range u.Users {
					if _, done := journal.Final(user); !done {
						todo = append(todo, user)
					}
				}
				// The whole template carries over: a resumed plan shows
				// the calls the resumed run will make (--include-app-roles
				// included).
				plan, err := u.planFor(todo, u.Request)
				if err != nil {
					_ = journal.Close()
					return Plan{}, err
				}
				out.Plan = RevokePlan{Users: len(todo), Done: len(u.Users) - len(todo), Plan: plan}
			}
			return u.question(out.Plan), nil
		},
		Describe: func(Plan) {
			if u.Show != nil {
				u.Show(out.Plan)
			}
		},
		Refused: func() {
			if journal == nil {
				return
			}
			if u.Journal.Mode == offboard.JournalResume {
				_ = journal.Close()
			} else {
				// A journal of a run that never started must not block the next one.
				_ = journal.Remove()
			}
		},
		Act: func(ctx context.Context, record func(audit.Entry) error) error {
			sum, err := u.execute(ctx, journal, record, &out.AuditErr)
			out.Summary = sum
			return err
		},
	})
	if out.AuditErr == nil {
		out.AuditErr = res.AuditErr
	}
	return out, err
}

func (u *RevokeUsers) question(p RevokePlan) Plan {
	return Plan{Question: fmt.Sprintf("Revoke the tokens of %d %s at %s (profile %s)?", p.Users, pluralWord(p.Users, "user"), u.Revoker.Name(), u.Profile)}
}

func (u *RevokeUsers) execute(ctx context.Context, journal *offboard.Journal, record func(audit.Entry) error, auditErr *error) (*offboard.Summary, error) {
	runCtx := ctx
	var abort <-chan struct{}
	if u.Watch != nil {
		var stop func()
		runCtx, abort, stop = u.Watch(ctx)
		defer stop()
	}
	lim := u.Limiter
	if lim == nil {
		lim = offboard.NewLimiter(u.Now, u.Sleep)
	}
	lim.OnPause = u.OnPause
	onResult := func(r offboard.Result) {
		if !r.Resumed {
			err := record(audit.Entry{
				Time: r.Time, Profile: u.Profile, Provider: u.Revoker.Name(), Action: audit.ActionRevokeUser,
				User: r.User, Client: r.Client, Result: string(r.Outcome), RequestID: r.RequestID, Detail: firstOf(r.Detail, r.Error),
			})
			if err != nil && *auditErr == nil {
				*auditErr = err
				u.warn(fmt.Errorf("%w; results are still reported here and in the journal", err))
			}
		}
		if u.OnResult != nil {
			u.OnResult(r)
		}
	}
	eng := &offboard.Engine{
		Revoker: u.Revoker, Request: u.Request,
		Journal: journal, Limiter: lim, Parallel: u.Parallel, Now: u.Now, Sleep: u.Sleep,
		OnResult: onResult, Abort: abort, AllowMissing: u.AllowMissing,
	}
	sum, runErr := eng.Run(runCtx, u.Users)
	if journal != nil {
		if runErr == nil {
			if err := journal.Remove(); err != nil {
				u.warn(err)
			}
		} else {
			_ = journal.Close()
		}
	}
	return sum, runErr
}

func (u *RevokeUsers) warn(err error) {
	if u.Warn != nil {
		u.Warn(err)
	}
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
