package revoke

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/audit"
	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/offboard"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/generic"
	"github.com/idpctl/idpctl/internal/ui"
)

// idp is a loopback admin API: DELETE /users/{id}/tokens revokes, users
// named fail-* get a 500, users named ghost-* a 404.
type idp struct {
	mu       sync.Mutex
	requests []string
	srv      *httptest.Server
}

func newIdP(t *testing.T) *idp {
	f := &idp{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		user := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/users/"), "/tokens")
		switch {
		case strings.HasPrefix(user, "fail-"):
			w.WriteHeader(http.StatusInternalServerError)
		case strings.HasPrefix(user, "ghost-"):
			w.WriteHeader(http.StatusNotFound)
		default:
			w.Header().Set("X-Request-Id", "rq-"+user)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *idp) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

type adapter struct{ env *provider.Env }

func (a *adapter) Name() string { return "fakeidp" }
func (a *adapter) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	return []provider.Call{{Method: "DELETE", Path: "/users/" + req.User + "/tokens", Purpose: "revoke every token"}}, nil
}
func (a *adapter) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	resp, err := a.env.Send(ctx, httpx.Request{Method: "DELETE", URL: a.env.BaseURL + "/users/" + req.User + "/tokens"})
	if err != nil {
		return nil, err
	}
	switch resp.Status {
	case http.StatusNoContent:
		return &provider.RevokeUserResult{User: req.User, Outcome: provider.OutcomeRevoked, RequestID: provider.RequestID(resp.Header), StillValid: "up to 15m (the access token lifetime)"}, nil
	case http.StatusNotFound:
		return &provider.RevokeUserResult{User: req.User, Outcome: provider.OutcomeUserNotFound}, nil
	}
	return nil, provider.StatusError("revoking "+req.User, resp, "")
}

type memAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memAudit) Check() error { return nil }
func (m *memAudit) Append(e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

type fixture struct {
	opts   *AdminOptions
	idp    *idp
	audit  *memAudit
	ios    *iostreams.IOStreams
	in     *bytes.Buffer
	out    *bytes.Buffer
	errOut *bytes.Buffer
	dir    string
}

func newFixture(t *testing.T, prov func(env *provider.Env) provider.Provider) *fixture {
	t.Helper()
	fx := &fixture{idp: newIdP(t), audit: &memAudit{}, dir: t.TempDir()}
	fx.ios, fx.in, fx.out, fx.errOut = iostreams.Test()
	hc, err := httpx.New(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := &provider.Env{BaseURL: fx.idp.srv.URL, HTTP: hc}
	if prov == nil {
		prov = func(env *provider.Env) provider.Provider { return &adapter{env: env} }
	}
	fx.opts = &AdminOptions{
		IO: fx.ios,
		Provider: func(context.Context) (provider.Provider, *config.Resolved, error) {
			return prov(env), &config.Resolved{Name: "prod"}, nil
		},
		Audit:    func() (Auditor, error) { return fx.audit, nil },
		StateDir: func() (string, error) { return fx.dir, nil },
		ReadFile: readUsersFile,
		Now:      time.Now,
		Output:   "text", Parallel: 4,
	}
	return fx
}

func (fx *fixture) usersFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "leavers.txt")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	fx.opts.UsersFile = path
	return path
}

func TestWithoutATerminalAndWithoutYesNothingIsSent(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*fixture, *testing.T)
	}{
		{"one user", func(fx *fixture, _ *testing.T) { fx.opts.User = "alice" }},
		{"a list", func(fx *fixture, t *testing.T) { fx.usersFile(t, "alice\nbob\n") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, nil)
			tc.set(fx, t)
			err := adminRun(context.Background(), fx.opts)
			if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "--yes") {
				t.Fatalf("err = %v (exit %d), want exit 2 naming --yes", err, cli.ExitCode(err))
			}
			if n := fx.idp.count(); n != 0 {
				t.Fatalf("%d requests reached the IdP", n)
			}
			if len(fx.audit.entries) != 0 {
				t.Fatalf("audit entries for nothing done: %v", fx.audit.entries)
			}
			// The refused run leaves no journal blocking the next one.
			fx.opts.Yes = true
			if err := adminRun(context.Background(), fx.opts); err != nil {
				t.Fatalf("the confirmed run: %v", err)
			}
		})
	}
}

func TestAtATerminalTheAnswerDecides(t *testing.T) {
	fx := newFixture(t, nil)
	fx.ios.SetTTY(true, false, true)
	fx.opts.User = "alice"
	fx.in.WriteString("n\n")
	if err := adminRun(context.Background(), fx.opts); err == nil || fx.idp.count() != 0 {
		t.Fatalf("answered no: err %v, %d requests", err, fx.idp.count())
	}
	fx.in.WriteString("y\n")
	if err := adminRun(context.Background(), fx.opts); err != nil || fx.idp.count() != 1 {
		t.Fatalf("answered yes: err %v, %d requests", err, fx.idp.count())
	}
	if !strings.Contains(fx.errOut.String(), "Revoke the tokens of 1 user at fakeidp (profile prod)? [y/N]") {
		t.Fatalf("stderr %q", fx.errOut.String())
	}
}

func TestADryRunShowsThePlanAndSendsNothing(t *testing.T) {
	fx := newFixture(t, nil)
	fx.usersFile(t, "alice\nbob\ncarol\ndave\nbob\nbad line\n")
	fx.opts.DryRun = true
	fx.opts.Client = "payroll"
	if err := adminRun(context.Background(), fx.opts); err != nil {
		t.Fatal(err)
	}
	out := fx.out.String()
	for _, want := range []string{"4 users in client payroll at fakeidp (profile prod)", "DELETE /users/alice/tokens", "DELETE /users/carol/tokens", "and the same for 1 more user", "1 line left out as duplicates", "line 6: contains white space"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/users/dave/") {
		t.Errorf("the plan spells out more than %d users", planShown)
	}
	if fx.idp.count() != 0 || len(fx.audit.entries) != 0 {
		t.Fatalf("a dry run sent %d requests and audited %d", fx.idp.count(), len(fx.audit.entries))
	}

	fx.out.Reset()
	fx.opts.Output = "json"
	if err := adminRun(context.Background(), fx.opts); err != nil {
		t.Fatal(err)
	}
	var doc planDoc
	if err := json.Unmarshal(fx.out.Bytes(), &doc); err != nil || !doc.DryRun || doc.Users != 4 || len(doc.Plan) != planShown || doc.Duplicates != 1 || len(doc.Problems) != 1 {
		t.Fatalf("json plan %+v (%v)", doc, err)
	}
}

func TestAListIsRevokedAuditedAndReportedAsJSONLines(t *testing.T) {
	fx := newFixture(t, nil)
	fx.usersFile(t, "email\nalice@x\nghost-1@x\nbob@x\n")
	fx.opts.Yes, fx.opts.Output, fx.opts.AllowMissing = true, "json", true
	if err := adminRun(context.Background(), fx.opts); err != nil {
		t.Fatal(err)
	}
	results := map[string]map[string]any{}
	sc := bufio.NewScanner(fx.out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line %q: %v", sc.Text(), err)
		}
		results[m["user"].(string)] = m
	}
	if len(results) != 3 || results["alice@x"]["result"] != "revoked" || results["ghost-1@x"]["result"] != "user not found" || results["bob@x"]["request_id"] != "rq-bob@x" {
		t.Fatalf("results %v", results)
	}
	if len(fx.audit.entries) != 3 {
		t.Fatalf("audit %v", fx.audit.entries)
	}
	for _, e := range fx.audit.entries {
		if e.Action != audit.ActionRevokeUser || e.Profile != "prod" || e.Provider != "fakeidp" || e.Result == "" {
			t.Fatalf("audit entry %+v", e)
		}
	}
	if !strings.Contains(fx.errOut.String(), "stay valid up to 15m (the access token lifetime)") {
		t.Fatalf("stderr lacks how long access tokens stay valid: %q", fx.errOut.String())
	}
	if entries, _ := os.ReadDir(filepath.Join(fx.dir, "journals")); len(entries) > 1 {
		t.Fatalf("a finished run left its journal: %v", entries)
	}
}

func TestFailedUsersGiveExit8AndTheResumeCommandRetriesOnlyThem(t *testing.T) {
	fx := newFixture(t, nil)
	fx.usersFile(t, "alice\nfail-bob\ncarol\n")
	fx.opts.Yes = true
	fx.opts.ProfileFlag = "prod"
	err := adminRun(context.Background(), fx.opts)
	if cli.ExitCode(err) != cli.ExitPartial || !strings.Contains(err.Error(), "1 of 3 users failed") || !strings.Contains(err.Error(), "--profile prod --users-file "+fx.opts.UsersFile+" --yes --resume") {
		t.Fatalf("err = %v", err)
	}
	out := fx.out.String()
	if !strings.Contains(out, "alice: revoked") || !strings.Contains(out, "fail-bob: failed: revoking fail-bob") {
		t.Fatalf("stdout %q", out)
	}
	if !strings.Contains(fx.errOut.String(), "RESULT") || !strings.Contains(fx.errOut.String(), "failed   1") {
		t.Fatalf("no summary table on stderr: %q", fx.errOut.String())
	}
	before := fx.idp.count()

	// Without --resume the unfinished run is refused, with nothing sent.
	err = adminRun(context.Background(), fx.opts)
	if cli.ExitCode(err) != cli.ExitUsage || fx.idp.count() != before {
		t.Fatalf("rerun without --resume: %v, %d new requests", err, fx.idp.count()-before)
	}
	fx.opts.Resume = true
	err = adminRun(context.Background(), fx.opts)
	if cli.ExitCode(err) != cli.ExitPartial || fx.idp.count() != before+1 {
		t.Fatalf("resume: %v; %d new requests, want 1 (the failed user only)", err, fx.idp.count()-before)
	}
}

func TestOneFailedUserExitsWithTheFailuresOwnCode(t *testing.T) {
	fx := newFixture(t, nil)
	fx.opts.User, fx.opts.Yes = "fail-x", true
	err := adminRun(context.Background(), fx.opts)
	if cli.ExitCode(err) != cli.ExitNetwork || !strings.Contains(err.Error(), "revoking the tokens of fail-x") {
		t.Fatalf("err = %v (exit %d)", err, cli.ExitCode(err))
	}
	if len(fx.audit.entries) != 1 || fx.audit.entries[0].Result != "failed" || !strings.Contains(fx.audit.entries[0].Detail, "HTTP 500") {
		t.Fatalf("audit %+v", fx.audit.entries)
	}
}

func TestAProviderWithoutTheCapabilityExits7BeforeAnything(t *testing.T) {
	fx := newFixture(t, func(*provider.Env) provider.Provider { p, _ := generic.New(nil); return p })
	fx.opts.User, fx.opts.Yes = "alice", true
	err := adminRun(context.Background(), fx.opts)
	if cli.ExitCode(err) != cli.ExitUnsupported || !strings.Contains(err.Error(), "idpctl token revoke --token-file FILE") {
		t.Fatalf("err = %v", err)
	}
	if len(fx.audit.entries) != 0 {
		t.Fatal("audited an unsupported operation")
	}
}

func TestCtrlCStopsTakingUsersAndSaysHowToResume(t *testing.T) {
	fx := newFixture(t, nil)
	var b strings.Builder
	for i := 0; i < 200; i++ {
		b.WriteString("user-" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + "-" + time.Duration(i).String() + "\n")
	}
	fx.usersFile(t, b.String())
	fx.opts.Yes, fx.opts.Parallel = true, 1
	sig := make(chan os.Signal, 2)
	fx.opts.Interrupts = func() (<-chan os.Signal, func()) { return sig, func() {} }
	n := 0
	fx.audit = &memAudit{}
	fx.opts.Audit = func() (Auditor, error) {
		return auditHook{fx.audit, func() {
			if n++; n == 10 {
				sig <- os.Interrupt
				time.Sleep(50 * time.Millisecond) // let the stop land before the next user
			}
		}}, nil
	}
	err := adminRun(context.Background(), fx.opts)
	if cli.ExitCode(err) != cli.ExitInterrupted || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("err = %v (exit %d)", err, cli.ExitCode(err))
	}
	if c := fx.idp.count(); c < 10 || c > 12 {
		t.Fatalf("%d requests after Ctrl-C at the 10th", c)
	}
	if !strings.Contains(fx.errOut.String(), "Press Ctrl-C again") {
		t.Fatalf("stderr %q", fx.errOut.String())
	}
	fx.opts.Resume, fx.opts.Interrupts = true, nil
	if err := adminRun(context.Background(), fx.opts); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range fx.idp.requests {
		seen[r]++
		if seen[r] > 1 {
			t.Fatalf("%s sent twice", r)
		}
	}
	if len(seen) != 200 {
		t.Fatalf("%d users revoked over both runs, want 200", len(seen))
	}
}

type auditHook struct {
	*memAudit
	after func()
}

func (a auditHook) Append(e audit.Entry) error {
	err := a.memAudit.Append(e)
	a.after()
	return err
}

func TestAdminFlagsFillTheOptionsAndAreCheckedTogether(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios, func(string) string { return "" }, "test")
	var got *RevokeOptions
	cmd := NewCmdRevoke(f, func(_ context.Context, o *RevokeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--users-file", "l.csv", "--column", "email", "--client", "app", "--method", "grants", "--dry-run", "-y", "--parallel", "8", "--resume", "-o", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.UserFile != "l.csv" || got.Column != "email" || got.Client != "app" || got.Method != "grants" || !got.DryRun || !got.Yes || got.Parallel != 8 || !got.Resume || got.Output != "json" {
		t.Fatalf("options %+v", got)
	}
	for _, args := range [][]string{
		{"--user", "a", "--users-file", "f"},
		{"--users-file", "f", "--resume", "--restart"},
	} {
		cmd := NewCmdRevoke(f, func(context.Context, *RevokeOptions) error { return nil })
		cmd.SetArgs(args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		if err := cmd.Execute(); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	for _, o := range []*RevokeOptions{{Client: "x"}, {Token: "t", User: "u"}, {Resume: true}} {
		if err := checkAdminFlags(o); errs.KindOf(err) != errs.KindUsage {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func TestAtATerminalAListShowsAProgressBarAndASummaryTable(t *testing.T) {
	fx := newFixture(t, nil)
	fx.ios.SetTTY(false, true, true)
	fx.usersFile(t, "alice\nghost-bob\nfail-carol\ndave\n")
	fx.opts.Yes = true
	err := adminRun(context.Background(), fx.opts)
	if cli.ExitCode(err) != cli.ExitPartial {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(fx.errOut.String(), "\r\x1b[Krevoking") || !strings.Contains(fx.errOut.String(), "4/4 100%") {
		t.Fatalf("no progress bar on stderr: %q", fx.errOut.String())
	}
	out := fx.out.String()
	for _, want := range []string{"ghost-bob   user not found", "fail-carol  failed", "alice       revoked", "dave        revoked", "RESULT", "revoked         2", "user not found  1", "failed          1"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// Users needing attention come first, so a long table never hides one.
	if strings.Index(out, "fail-carol") > strings.Index(out, "alice") || strings.Index(out, "ghost-bob") > strings.Index(out, "dave") {
		t.Errorf("revoked users are listed before the ones needing attention:\n%s", out)
	}
}

func TestAUserTheIdPDoesNotKnowIsAFailureUnlessAllowed(t *testing.T) {
	t.Run("one user exits 1", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.opts.User, fx.opts.Yes = "ghost-x", true
		err := adminRun(context.Background(), fx.opts)
		if cli.ExitCode(err) != cli.ExitError || !strings.Contains(err.Error(), `does not know user "ghost-x"`) || !strings.Contains(err.Error(), "--allow-missing") {
			t.Fatalf("err = %v (exit %d), want exit 1 naming the user and --allow-missing", err, cli.ExitCode(err))
		}
		fx.opts.AllowMissing = true
		if err := adminRun(context.Background(), fx.opts); err != nil {
			t.Fatalf("with --allow-missing: %v", err)
		}
	})
	t.Run("a list exits 8 and a resume can accept them", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.usersFile(t, "alice\nghost-bob\ncarol\n")
		fx.opts.Yes, fx.opts.ProfileFlag = true, "prod"
		err := adminRun(context.Background(), fx.opts)
		if cli.ExitCode(err) != cli.ExitPartial || !strings.Contains(err.Error(), "1 not found at the IdP") || !strings.Contains(err.Error(), "--resume --allow-missing") {
			t.Fatalf("err = %v (exit %d)", err, cli.ExitCode(err))
		}
		before := fx.idp.count()
		fx.opts.Resume, fx.opts.AllowMissing = true, true
		if err := adminRun(context.Background(), fx.opts); err != nil || fx.idp.count() != before {
			t.Fatalf("accepting them: %v, %d new requests", err, fx.idp.count()-before)
		}
	})
}

func TestAnEndlessOrHugeUsersFileFailsFastWithExit2(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge.csv")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: 300 MB that take no disk.
	if err := f.Truncate(300 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, path := range []string{"/dev/zero", huge} {
		fx := newFixture(t, nil)
		fx.opts.UsersFile, fx.opts.Yes = path, true
		err := adminRun(context.Background(), fx.opts)
		if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "larger than 32 MiB") {
			t.Fatalf("%s: err = %v (exit %d), want exit 2 saying it is too large", path, err, cli.ExitCode(err))
		}
		if fx.idp.count() != 0 {
			t.Fatalf("%s: requests were sent", path)
		}
	}
}

func TestAUserWithInvisibleCharactersIsRefused(t *testing.T) {
	for _, u := range []string{"alice\u200b", "\u202eecila", "al\u00adice", "bob\u2066"} {
		fx := newFixture(t, nil)
		fx.opts.User, fx.opts.Yes = u, true
		err := adminRun(context.Background(), fx.opts)
		if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "invisible formatting character") || fx.idp.count() != 0 {
			t.Fatalf("%q: err = %v (exit %d), %d requests", u, err, cli.ExitCode(err), fx.idp.count())
		}
	}
}

// interruptAfter makes the fixture's run receive Ctrl-C after n audited
// results.
func interruptAfter(fx *fixture, n int) {
	sig := make(chan os.Signal, 2)
	fx.opts.Interrupts = func() (<-chan os.Signal, func()) { return sig, func() {} }
	seen := 0
	fx.opts.Audit = func() (Auditor, error) {
		return auditHook{fx.audit, func() {
			if seen++; seen == n {
				sig <- os.Interrupt
				time.Sleep(50 * time.Millisecond) // let the stop land before the next user
			}
		}}, nil
	}
}

func TestAResumedRunPlansAndCountsOnlyTheUsersLeft(t *testing.T) {
	fx := newFixture(t, nil)
	var users []string
	for i := 0; i < 10; i++ {
		users = append(users, fmt.Sprintf("user%02d", i))
	}
	fx.usersFile(t, strings.Join(users, "\n")+"\n")
	fx.opts.Yes, fx.opts.Parallel = true, 1
	interruptAfter(fx, 4)
	err := adminRun(context.Background(), fx.opts)
	if cli.ExitCode(err) != cli.ExitInterrupted || !strings.Contains(err.Error(), "interrupted: 4 of 10 users done, 0 failed, 6 not started") {
		t.Fatalf("first run: %v", err)
	}

	fx.errOut.Reset()
	fx.opts.Resume = true
	interruptAfter(fx, 2)
	err = adminRun(context.Background(), fx.opts)
	// This run did 2 of the 6 left; the 4 done before are named apart.
	if cli.ExitCode(err) != cli.ExitInterrupted || !strings.Contains(err.Error(), "interrupted: 2 of 6 users done, 0 failed, 4 not started; 4 more were done by an earlier run") {
		t.Fatalf("second run: %v", err)
	}
	plan := fx.errOut.String()
	for _, want := range []string{"Plan: revoke the tokens of 6 users", "user04:", "4 of the 10 users in", "were done by an earlier run and are skipped"} {
		if !strings.Contains(plan, want) {
			t.Errorf("the resume plan lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "user00:") {
		t.Errorf("the resume plan spells out a user done before:\n%s", plan)
	}
	// The summary counts this run's work, and the earlier run's apart.
	for _, want := range []string{"revoked                 2", "not started             4", "done in an earlier run  4"} {
		if !strings.Contains(plan, want) {
			t.Errorf("the summary lacks %q:\n%s", want, plan)
		}
	}
}

func TestAtATerminalARateLimitPauseShowsInTheProgressLine(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.Local)
	var limited sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		limited.Do(func() { first = true })
		if first {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	fx := newFixture(t, nil)
	hc, _ := httpx.New(httpx.Options{MaxRetries: -1})
	fx.opts.Provider = func(context.Context) (provider.Provider, *config.Resolved, error) {
		return &adapter{env: &provider.Env{BaseURL: srv.URL, HTTP: hc}}, &config.Resolved{Name: "prod"}, nil
	}
	fx.opts.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	fx.opts.Sleep = func(_ context.Context, d time.Duration) error { mu.Lock(); now = now.Add(d); mu.Unlock(); return nil }
	fx.ios.SetTTY(false, true, true)
	fx.usersFile(t, "alice\nbob\ncarol\n")
	fx.opts.Yes, fx.opts.Parallel = true, 1
	if err := adminRun(context.Background(), fx.opts); err != nil {
		t.Fatal(err)
	}
	errOut := fx.errOut.String()
	if !regexp.MustCompile(`\r\x1b\[Krevoking [^\r\n]*paused until 12:00:30: rate limit`).MatchString(errOut) {
		t.Fatalf("the progress line does not show the pause: %q", errOut)
	}
}

// recorder is an adapter that keeps the requests it is given.
type recorder struct {
	adapter
	mu   sync.Mutex
	seen []provider.RevokeUserRequest
}

func (r *recorder) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req)
	r.mu.Unlock()
	return r.adapter.PlanRevokeUser(req)
}

func (r *recorder) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req)
	r.mu.Unlock()
	return r.adapter.RevokeUser(ctx, req)
}

func TestIncludeAppRolesReachesThePlanAndEveryRevocation(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios, func(string) string { return "" }, "test")
	var got *RevokeOptions
	cmd := NewCmdRevoke(f, func(_ context.Context, o *RevokeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--user", "alice", "--method", "grants", "--include-app-roles"})
	if err := cmd.Execute(); err != nil || !got.IncludeAppRoles {
		t.Fatalf("options %+v err %v", got, err)
	}
	if err := checkAdminFlags(&RevokeOptions{IncludeAppRoles: true}); errs.KindOf(err) != errs.KindUsage {
		t.Fatalf("--include-app-roles without --user: %v", err)
	}

	var rec *recorder
	fx := newFixture(t, func(env *provider.Env) provider.Provider { rec = &recorder{adapter: adapter{env: env}}; return rec })
	fx.opts.User, fx.opts.Yes, fx.opts.IncludeAppRoles = "alice", true, true
	if err := adminRun(context.Background(), fx.opts); err != nil {
		t.Fatal(err)
	}
	if len(rec.seen) != 2 {
		t.Fatalf("adapter saw %d requests, want the plan and the revocation", len(rec.seen))
	}
	for _, req := range rec.seen {
		if !req.IncludeAppRoles {
			t.Fatalf("request without IncludeAppRoles: %+v", req)
		}
	}
}

// The tally counts the users this run sent: neither those done before nor
// those an interruption left for a resume.
func TestTheTallyCountsOnlyTheUsersThisRunSent(t *testing.T) {
	var out bytes.Buffer
	writeSummary(ui.New(&out, false), &offboard.Summary{
		Total: 70, Resumed: 9, NotStarted: 37,
		Counts:  map[provider.Outcome]int{provider.OutcomeRevoked: 33},
		ThisRun: map[provider.Outcome]int{provider.OutcomeRevoked: 24},
	})
	if !strings.Contains(out.String(), "24 users this run") || !strings.Contains(out.String(), "(70 in the list)") {
		t.Fatalf("tally:\n%s", out.String())
	}
}
