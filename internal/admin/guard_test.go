package admin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/audit"
)

// trace notes the order in which the guard touches its collaborators.
type trace struct{ steps []string }

func (t *trace) add(s string)   { t.steps = append(t.steps, s) }
func (t *trace) String() string { return strings.Join(t.steps, " ") }

type fakeLog struct {
	tr        *trace
	checkErr  error
	appendErr error
	entries   []audit.Entry
}

func (l *fakeLog) Check() error { l.tr.add("check"); return l.checkErr }
func (l *fakeLog) Append(e audit.Entry) error {
	l.tr.add("append")
	if l.appendErr != nil {
		return l.appendErr
	}
	l.entries = append(l.entries, e)
	return nil
}

var clock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func setup(confirmErr error) (*Guard, *fakeLog, *trace, *int) {
	tr := &trace{}
	log := &fakeLog{tr: tr}
	opened := 0
	g := &Guard{
		Audit: func() (Recorder, error) { opened++; tr.add("open"); return log, nil },
		Confirm: ConfirmFunc(func(destructive bool, q string) error {
			tr.add("confirm:" + q)
			return confirmErr
		}),
		Now: func() time.Time { return clock },
	}
	return g, log, tr, &opened
}

func action(tr *trace, actErr error) Action {
	return Action{
		Plan:     func(context.Context) (Plan, error) { tr.add("plan"); return Plan{Question: "go?"}, nil },
		Describe: func(Plan) { tr.add("describe") },
		Refused:  func() { tr.add("refused") },
		Act: func(context.Context, func(audit.Entry) error) error {
			tr.add("act")
			return actErr
		},
		Record: func(err error) *audit.Entry {
			e := audit.Entry{Action: audit.ActionSetExpiry, Result: "applied"}
			if err != nil {
				e.Result = "failed"
			}
			return &e
		},
	}
}

func TestTheAuditLogIsCheckedBeforeAnythingIsPlanned(t *testing.T) {
	g, _, tr, _ := setup(nil)
	if _, err := g.Run(context.Background(), action(tr, nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := tr.String(), "open check plan describe confirm:go? act append"; got != want {
		t.Fatalf("order = %q, want %q", got, want)
	}
}

func TestAnUnwritableAuditLogStopsBeforeThePlan(t *testing.T) {
	g, log, tr, _ := setup(nil)
	log.checkErr = errors.New("audit log: permission denied")
	_, err := g.Run(context.Background(), action(tr, nil))
	if err == nil || !strings.Contains(err.Error(), "not run without their audit record") {
		t.Fatalf("err = %v", err)
	}
	if got := tr.String(); got != "open check" {
		t.Fatalf("steps = %q: nothing may be planned or sent", got)
	}
}

func TestNothingIsSentWhenConfirmationIsRefused(t *testing.T) {
	for _, name := range []string{"answered no", "no terminal", "destructive without --yes"} {
		t.Run(name, func(t *testing.T) {
			refusal := errors.New(name)
			g, log, tr, _ := setup(refusal)
			res, err := g.Run(context.Background(), action(tr, nil))
			if !errors.Is(err, refusal) {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(tr.String(), "act") || len(log.entries) != 0 || res.Outcome == Acted {
				t.Fatalf("steps = %q, entries %v: nothing may be sent or recorded", tr, log.entries)
			}
			if !strings.HasSuffix(tr.String(), "refused") {
				t.Fatalf("steps = %q: the refusal hook did not run", tr)
			}
		})
	}
}

func TestADestructivePlanIsAskedAsDestructive(t *testing.T) {
	g, _, tr, _ := setup(nil)
	var sawDestructive bool
	g.Confirm = ConfirmFunc(func(d bool, _ string) error { sawDestructive = d; return errors.New("needs --yes") })
	a := action(tr, nil)
	a.Plan = func(context.Context) (Plan, error) { return Plan{Question: "q", Destructive: true}, nil }
	if _, err := g.Run(context.Background(), a); err == nil || !sawDestructive {
		t.Fatalf("err = %v, destructive = %v", err, sawDestructive)
	}
}

func TestAFailedActIsStillRecorded(t *testing.T) {
	g, log, tr, _ := setup(nil)
	boom := errors.New("503 from the IdP")
	res, err := g.Run(context.Background(), action(tr, boom))
	if !errors.Is(err, boom) || res.Outcome != Acted {
		t.Fatalf("err = %v, outcome %v", err, res.Outcome)
	}
	if len(log.entries) != 1 || log.entries[0].Result != "failed" || !log.entries[0].Time.Equal(clock) {
		t.Fatalf("entries = %+v", log.entries)
	}
}

func TestADryRunSendsNothingAndRecordsNothing(t *testing.T) {
	g, log, tr, opened := setup(nil)
	// The log is unwritable: a dry run must not care, as it records nothing.
	log.checkErr = errors.New("read-only")
	a := action(tr, nil)
	a.DryRun = true
	res, err := g.Run(context.Background(), a)
	if err != nil || res.Outcome != Shown {
		t.Fatalf("err = %v, outcome %v", err, res.Outcome)
	}
	if got := tr.String(); got != "plan describe" || *opened != 0 || len(log.entries) != 0 {
		t.Fatalf("steps = %q, log opened %d times, entries %v", got, *opened, log.entries)
	}
}

func TestNothingToDoStopsAfterThePlan(t *testing.T) {
	g, log, tr, _ := setup(nil)
	a := action(tr, nil)
	a.Plan = func(context.Context) (Plan, error) { tr.add("plan"); return Plan{NothingToDo: true}, nil }
	res, err := g.Run(context.Background(), a)
	if err != nil || res.Outcome != Shown || strings.Contains(tr.String(), "act") || len(log.entries) != 0 {
		t.Fatalf("err = %v, steps %q, entries %v", err, tr, log.entries)
	}
}

func TestEntriesFromTheActAreStampedAndAFailedAppendIsReported(t *testing.T) {
	g, log, tr, _ := setup(nil)
	var warned error
	g.Warn = func(err error) { warned = err }
	a := action(tr, nil)
	a.Act = func(_ context.Context, record func(audit.Entry) error) error {
		return record(audit.Entry{Action: audit.ActionRevokeUser, User: "alice"})
	}
	log.appendErr = nil
	if _, err := g.Run(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if len(log.entries) != 2 || log.entries[0].User != "alice" || !log.entries[0].Time.Equal(clock) {
		t.Fatalf("entries = %+v", log.entries)
	}
	log.appendErr = errors.New("disk full")
	res, err := g.Run(context.Background(), action(tr, nil))
	if err != nil || !errors.Is(res.AuditErr, log.appendErr) || !errors.Is(warned, log.appendErr) {
		t.Fatalf("err = %v, audit err %v, warned %v", err, res.AuditErr, warned)
	}
}
