package admin

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/offboard"
	"github.com/idpctl/idpctl/internal/provider"
)

type fakeUserRevoker struct {
	mu      sync.Mutex
	planned []provider.RevokeUserRequest
	tr      *trace
	sent    []string
	// observe is the adapter's rate-limit observer; answers say the
	// budget is spent.
	observe func(http.Header)
	reset   func() int64
}

func (f *fakeUserRevoker) Name() string { return "fake" }
func (f *fakeUserRevoker) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	f.mu.Lock()
	f.planned = append(f.planned, req)
	f.mu.Unlock()
	return []provider.Call{{Method: "DELETE", Path: "/users/" + req.User + "/sessions"}}, nil
}
func (f *fakeUserRevoker) RevokeUser(_ context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, req.User)
	if f.observe != nil && f.reset != nil {
		f.observe(http.Header{"X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {strconv.FormatInt(f.reset()+60, 10)}})
	}
	return &provider.RevokeUserResult{User: req.User, Outcome: provider.OutcomeRevoked}, nil
}

func newRevokeUsers(g *Guard, r *fakeUserRevoker, dir string) *RevokeUsers {
	return &RevokeUsers{
		Guard: g, Revoker: r, Profile: "prod", Users: []string{"ann", "bob", "cy", "dee"}, Parallel: 2,
		Journal: &JournalSpec{StateDir: func() (string, error) { return dir, nil }, Source: "leavers.csv",
			Key: offboard.JournalKey{Provider: "fake", Profile: "prod", Input: []byte("ann\nbob\ncy\ndee\n")}},
	}
}

func TestRevokeUsersRecordsEveryUser(t *testing.T) {
	g, log, _, _ := setup(nil)
	r := &fakeUserRevoker{}
	dir := t.TempDir()
	u := newRevokeUsers(g, r, dir)
	var shown RevokePlan
	u.Show = func(p RevokePlan) { shown = p }
	o, err := u.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if shown.Users != 4 || len(shown.Plan) != PlanShown || len(r.sent) != 4 || o.Summary == nil || o.Summary.Total != 4 {
		t.Fatalf("plan %+v, sent %v, summary %+v", shown, r.sent, o.Summary)
	}
	if len(log.entries) != 4 || log.entries[0].Profile != "prod" || log.entries[0].Result != string(provider.OutcomeRevoked) {
		t.Fatalf("entries = %+v", log.entries)
	}
	if _, err := os.Stat(offboard.JournalPath(dir, u.Journal.Key)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the journal of a finished run is left behind: %v", err)
	}
}

func TestRevokeUsersRefusedSendsNothingAndLeavesNoJournal(t *testing.T) {
	g, log, _, _ := setup(errors.New("no terminal"))
	r := &fakeUserRevoker{}
	dir := t.TempDir()
	u := newRevokeUsers(g, r, dir)
	if _, err := u.Run(context.Background()); err == nil || len(r.sent) != 0 || len(log.entries) != 0 {
		t.Fatalf("err = %v, sent %v, entries %v", err, r.sent, log.entries)
	}
	if _, err := os.Stat(offboard.JournalPath(dir, u.Journal.Key)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a run that never started left its journal: %v", err)
	}
}

func TestRevokeUsersDryRunOpensNoJournal(t *testing.T) {
	g, log, _, opened := setup(nil)
	r := &fakeUserRevoker{}
	u := newRevokeUsers(g, r, t.TempDir())
	u.DryRun = true
	u.Journal.StateDir = func() (string, error) { t.Fatal("a dry run opened the journal"); return "", nil }
	o, err := u.Run(context.Background())
	if err != nil || o.Summary != nil || len(r.sent) != 0 || len(log.entries) != 0 || *opened != 0 || len(o.Plan.Plan) != PlanShown {
		t.Fatalf("err = %v, outcome %+v, sent %v", err, o, r.sent)
	}
}

func TestRevokeUsersPacesWithTheLimiterTheAdapterReportsTo(t *testing.T) {
	g, _, _, _ := setup(nil)
	var slept []time.Duration
	var mu sync.Mutex
	now := clock
	lim := offboard.NewLimiter(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }, func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
		now = now.Add(d)
		return nil
	})
	r := &fakeUserRevoker{observe: lim.Observe, reset: func() int64 { mu.Lock(); defer mu.Unlock(); return now.Unix() }}
	u := newRevokeUsers(g, r, t.TempDir())
	u.Parallel, u.Limiter = 1, lim
	o, err := u.Run(context.Background())
	if err != nil || o.Summary.Pauses == 0 || len(slept) == 0 {
		t.Fatalf("err = %v, pauses %d, slept %v: the spent budget did not pause the run", err, o.Summary.Pauses, slept)
	}
}

func TestAResumedPlanKeepsEveryOptionOfTheRequest(t *testing.T) {
	g, _, _, _ := setup(nil)
	r := &fakeUserRevoker{}
	dir := t.TempDir()
	u := newRevokeUsers(g, r, dir)
	u.Request = provider.RevokeUserRequest{Method: "grants", IncludeAppRoles: true}
	j, err := offboard.OpenJournal(dir, u.Journal.Key, offboard.JournalNew, "leavers.csv", len(u.Users), clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	u.Journal.Mode = offboard.JournalResume
	if _, err := u.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.planned) == 0 {
		t.Fatal("nothing was planned")
	}
	for _, req := range r.planned {
		if !req.IncludeAppRoles || req.Method != "grants" {
			t.Fatalf("a resumed plan dropped an option: %+v", req)
		}
	}
}
