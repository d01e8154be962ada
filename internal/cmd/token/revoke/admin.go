package revoke

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idpctl/idpctl/internal/admin"
	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/offboard"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/registry"
	"github.com/idpctl/idpctl/internal/ui"
	"github.com/idpctl/idpctl/internal/xdg"
)

// Auditor records admin actions.
type Auditor = admin.Recorder

// AdminOptions are the inputs of the admin form of token revoke.
type AdminOptions struct {
	IO       *iostreams.IOStreams
	Provider func(context.Context) (provider.Provider, *config.Resolved, error)
	Audit    func() (Auditor, error)
	StateDir func() (string, error)
	ReadFile func(string) ([]byte, error)
	Now      func() time.Time
	Sleep    func(context.Context, time.Duration) error
	// Interrupts delivers Ctrl-C presses during a run and a function that
	// stops the delivery; nil means none are watched.
	Interrupts func() (<-chan os.Signal, func())
	// Limiter paces the run; the adapter Provider builds reports its
	// answers' rate-limit headers to it. Nil learns from 429s only.
	Limiter *offboard.Limiter
	// ProfileFlag is --profile as given, repeated in the resume hint.
	ProfileFlag string

	User, Client, UsersFile, Column, Method, Output string
	DryRun, Yes, Resume, Restart                    bool
	// IncludeAppRoles is --include-app-roles, passed to the adapter.
	IncludeAppRoles bool
	// AllowMissing accepts users the IdP does not know as done.
	AllowMissing bool
	Parallel     int
}

// maxUsersFile bounds the users file: a million leavers is a mistake.
const maxUsersFile = 32 << 20

// planShown is how many users' calls the plan spells out.
const planShown = admin.PlanShown

// notableShown bounds the per-user table printed at a terminal.
const notableShown = 50

// checkAdminFlags refuses admin-only flags without --user/--users-file and
// a token together with them.
func checkAdminFlags(o *RevokeOptions) error {
	admin := o.User != "" || o.UserFile != ""
	if admin && (o.Token != "" || o.TokenFile != "") {
		return errs.New(errs.KindUsage, "give either a TOKEN or --user/--users-file, not both")
	}
	if !admin {
		for name, set := range map[string]bool{"--client": o.Client != "", "--column": o.Column != "", "--method": o.Method != "", "--include-app-roles": o.IncludeAppRoles, "--dry-run": o.DryRun, "--resume": o.Resume, "--restart": o.Restart, "--allow-missing": o.AllowMissing} {
			if set {
				return errs.New(errs.KindUsage, "%s goes with --user or --users-file", name)
			}
		}
	}
	return nil
}

// AdminRun runs the admin form with the real world behind it.
func AdminRun(ctx context.Context, o *RevokeOptions) error {
	if err := checkAdminFlags(o); err != nil {
		return err
	}
	f := o.Factory
	// The limiter is made before the adapter so that the adapter can be
	// given its observer: the bulk run then pauses on a spent budget.
	lim := offboard.NewLimiter(f.Now, nil)
	a := &AdminOptions{
		IO: o.IO, Limiter: lim,
		Provider: func(ctx context.Context) (provider.Provider, *config.Resolved, error) {
			return f.ProviderObserved(ctx, lim.Observe)
		},
		Audit:    func() (Auditor, error) { return f.AuditLog() },
		StateDir: xdg.StateDir, ReadFile: readUsersFile, Now: f.Now,
		Interrupts: systemInterrupts, ProfileFlag: f.Flags.Profile,
		User: o.User, Client: o.Client, UsersFile: o.UserFile, Column: o.Column, Method: o.Method,
		Output: o.Output, DryRun: o.DryRun, Yes: o.Yes, Resume: o.Resume, Restart: o.Restart, Parallel: o.Parallel,
		IncludeAppRoles: o.IncludeAppRoles,
		AllowMissing:    o.AllowMissing,
	}
	return adminRun(ctx, a)
}

func systemInterrupts() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt)
	return ch, func() { signal.Stop(ch) }
}

// input is the users to run and where they came from.
type input struct {
	users    []string
	list     *offboard.UserList // nil for --user
	raw      []byte
	name     string
	fromFile bool
}

func (o *AdminOptions) readInput() (*input, error) {
	if o.UsersFile == "" {
		u := strings.TrimSpace(o.User)
		if u == "" {
			return nil, errs.New(errs.KindUsage, "--user is empty")
		}
		// The same rule as for a users file: an invisible character makes
		// an id that matches nobody while looking right.
		if reason := offboard.CheckUser(u); reason != "" {
			return nil, errs.New(errs.KindUsage, "--user %q %s: type the identifier again rather than pasting it", u, reason)
		}
		return &input{users: []string{u}, name: u}, nil
	}
	var raw []byte
	var err error
	name := o.UsersFile
	if o.UsersFile == "-" {
		name = "stdin"
		raw, err = o.IO.ReadAllIn(maxUsersFile)
	} else {
		read := o.ReadFile
		if read == nil {
			read = readUsersFile
		}
		raw, err = read(o.UsersFile)
	}
	if err != nil {
		return nil, errs.New(errs.KindUsage, "reading the users file: %w", err)
	}
	list, err := offboard.ParseUsers(raw, o.Column)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(list.Users) == 0 {
		return nil, errs.New(errs.KindUsage, "%s holds no users", name)
	}
	return &input{users: list.Users, list: list, raw: raw, name: name, fromFile: true}, nil
}

// errTooLarge says a users file passed maxUsersFile.
var errTooLarge = fmt.Errorf("it is larger than %d MiB, more than any list of leavers; split it, or check that the path names the file meant", maxUsersFile>>20)

// readUsersFile reads at most maxUsersFile bytes: a device (/dev/zero), a
// pipe that never ends or a huge file fails fast instead of filling memory.
func readUsersFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			return nil, fmt.Errorf("%s is a directory", path)
		}
		if st.Mode().IsRegular() && st.Size() > maxUsersFile {
			return nil, errTooLarge
		}
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxUsersFile+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxUsersFile {
		return nil, errTooLarge
	}
	return raw, nil
}

type planDoc struct {
	DryRun     bool               `json:"dry_run"`
	Provider   string             `json:"provider"`
	Profile    string             `json:"profile"`
	Client     string             `json:"client,omitempty"`
	Method     string             `json:"method,omitempty"`
	Users      int                `json:"users"`
	Done       int                `json:"done_earlier,omitempty"`
	Duplicates int                `json:"duplicates,omitempty"`
	Problems   []offboard.Problem `json:"problems,omitempty"`
	Plan       []admin.UserPlan   `json:"plan"`
}

func adminRun(ctx context.Context, o *AdminOptions) error {
	if o.Output != "text" && o.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text or json", o.Output)
	}
	if o.UsersFile == "" && (o.Column != "" || o.Resume || o.Restart) {
		return errs.New(errs.KindUsage, "--column, --resume and --restart go with --users-file")
	}
	if o.Parallel < 1 || o.Parallel > 64 {
		return errs.New(errs.KindUsage, "--parallel must be between 1 and 64")
	}
	in, err := o.readInput()
	if err != nil {
		return err
	}
	prov, p, err := o.Provider(ctx)
	if err != nil {
		return err
	}
	rev, err := registry.Revoker(prov)
	if err != nil {
		return err
	}
	doc := planDoc{DryRun: o.DryRun, Provider: prov.Name(), Profile: p.Name, Client: o.Client, Method: o.Method, Users: len(in.users)}
	if in.list != nil {
		doc.Duplicates, doc.Problems = in.list.Duplicates, in.list.Problems
	}
	uc := &admin.RevokeUsers{
		Guard:   cli.AdminGuard(o.IO, o.Yes, func() (admin.Recorder, error) { return o.Audit() }, o.Now),
		Revoker: rev, Profile: p.Name, Users: in.users, DryRun: o.DryRun,
		Request:  provider.RevokeUserRequest{Client: o.Client, Method: o.Method, IncludeAppRoles: o.IncludeAppRoles},
		Parallel: o.Parallel, AllowMissing: o.AllowMissing, Now: o.Now, Sleep: o.Sleep, Limiter: o.Limiter,
		Show: func(plan admin.RevokePlan) {
			doc.Users, doc.Done, doc.Plan = plan.Users, plan.Done, plan.Plan
			if !o.DryRun {
				writePlan(ui.New(o.IO.ErrOut, o.IO.ColorEnabledStderr()), doc, in)
			}
		},
	}
	if in.fromFile {
		mode := offboard.JournalNew
		switch {
		case o.Resume:
			mode = offboard.JournalResume
		case o.Restart:
			mode = offboard.JournalRestart
		}
		uc.Journal = &admin.JournalSpec{StateDir: o.StateDir, Source: in.name, Mode: mode,
			Key: offboard.JournalKey{Provider: prov.Name(), Profile: p.Name, Client: o.Client, Method: o.Method, IncludeAppRoles: o.IncludeAppRoles, Input: in.raw,
				IdP: offboard.NewIdP(prov.Name(), p.Issuer, p.Admin)}}
	}
	if o.DryRun {
		if _, err := uc.Run(ctx); err != nil {
			return err
		}
		if o.Output == "json" {
			enc := json.NewEncoder(o.IO.Out)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		}
		writePlan(ui.New(o.IO.Out, o.IO.ColorEnabled()), doc, in)
		fmt.Fprintln(o.IO.ErrOut, "Dry run: nothing was sent.")
		return nil
	}
	return o.execute(ctx, uc, prov.Name(), in)
}

func (o *AdminOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// execute runs the confirmed revocation with its progress, Ctrl-C
// handling and per-user output.
func (o *AdminOptions) execute(ctx context.Context, uc *admin.RevokeUsers, provName string, in *input) error {
	var outMu sync.Mutex // stderr notes and the bar come from several goroutines
	errOut := o.IO.ErrOut
	list := in.fromFile
	stdoutTTY := o.IO.IsStdoutTTY()
	var bar *ui.Progress
	note := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		if bar != nil {
			bar.Clear()
		}
		// Messages quote the IdP; shown escaped like all terminal text.
		fmt.Fprintln(errOut, ui.Sanitize(fmt.Sprintf(format, args...)))
	}
	uc.Warn = func(err error) { note("warning: %v", err) }

	// Set up once confirmed: the prompt keeps Ctrl-C's usual meaning.
	uc.Watch = func(ctx context.Context) (context.Context, <-chan struct{}, func()) {
		if list && o.IO.IsStderrTTY() && !(o.Output == "json" && stdoutTTY) {
			bar = ui.New(errOut, o.IO.ColorEnabledStderr()).NewProgress("revoking", len(in.users), o.Now)
		}
		runCtx, stopRun := context.WithCancel(ctx)
		abort := make(chan struct{})
		if o.Interrupts == nil {
			return runCtx, abort, stopRun
		}
		sig, stopSig := o.Interrupts()
		finished := make(chan struct{})
		go func() {
			n := 0
			for {
				select {
				case <-sig:
					n++
					if n == 1 {
						note("Stopping: no new users; the calls in flight finish and are recorded. Press Ctrl-C again to abort them.")
						stopRun()
					} else {
						note("Aborting the calls in flight.")
						close(abort)
						return
					}
				case <-finished:
					return
				}
			}
		}()
		return runCtx, abort, func() { close(finished); stopSig(); stopRun() }
	}

	var pausedUntil time.Time
	uc.OnPause = func(until time.Time, reason offboard.PauseReason) {
		outMu.Lock()
		pausedUntil = until
		outMu.Unlock()
		msg := fmt.Sprintf("paused until %s: %s", until.Local().Format(time.TimeOnly), reason)
		if bar != nil {
			bar.SetNote(msg)
			return
		}
		note("%s", msg)
	}

	enc := json.NewEncoder(o.IO.Out)
	outP := ui.New(o.IO.Out, o.IO.ColorEnabled())
	var notable []offboard.Result
	uc.OnResult = func(r offboard.Result) {
		outMu.Lock()
		if bar != nil && !pausedUntil.IsZero() && o.now().After(pausedUntil) {
			pausedUntil = time.Time{}
			bar.SetNote("")
		}
		outMu.Unlock()
		if bar != nil {
			bar.Step(r.Outcome == provider.OutcomeFailed)
		}
		switch {
		case o.Output == "json":
			_ = enc.Encode(r)
		case !list || !stdoutTTY:
			outP.Println(resultLine(outP, r))
		case !r.Resumed:
			// At a terminal the table at the end names every user this
			// run worked on, revoked ones included: an offboarding
			// ticket wants the names, not only a count.
			notable = append(notable, r)
		}
	}

	res, runErr := uc.Run(ctx)
	sum := res.Summary
	if sum == nil {
		// Refused, or stopped before the first user: nothing ran.
		return runErr
	}
	if bar != nil {
		outMu.Lock()
		bar.Finish()
		outMu.Unlock()
	}

	if list {
		if o.Output == "text" && stdoutTTY {
			writeNotable(outP, notable)
			writeSummary(outP, sum)
		} else if o.IO.IsStderrTTY() || o.Output == "text" {
			writeSummary(ui.New(errOut, o.IO.ColorEnabledStderr()), sum)
		}
	}
	if sum.Total-len(sum.Failed)-len(sum.Missing)-sum.NotStarted > 0 {
		errP := ui.New(errOut, o.IO.ColorEnabledStderr())
		valid := sum.StillValid
		if valid == "" {
			valid = "until they expire: JWT access tokens cannot be recalled"
		}
		errP.Println(errP.Dim("Access tokens already issued stay valid " + valid + "."))
	}
	return o.finalError(provName, in, sum, runErr, res.AuditErr)
}

func (o *AdminOptions) finalError(provName string, in *input, sum *offboard.Summary, runErr, auditErr error) error {
	if !in.fromFile {
		switch {
		case len(sum.Failed) == 1:
			r := sum.Failed[0]
			return errs.New(r.Kind, "revoking the tokens of %s: %s", r.User, r.Error)
		case len(sum.Missing) == 1:
			// Exit 1, as token inspect does for a token that does not
			// hold: the question was answered, and the answer is no.
			return fmt.Errorf("%s does not know user %q: nothing was revoked; check the identifier (the adapter's user lookup is described in docs/providers.md), or pass --allow-missing if the account is known to be deleted already", provName, sum.Missing[0].User)
		case runErr != nil && errs.KindOf(runErr) != errs.KindPartial:
			return runErr
		}
		if auditErr != nil {
			return auditErr
		}
		return nil
	}
	resume := o.resumeCommand()
	switch errs.KindOf(runErr) {
	case errs.KindUnknown:
		if runErr != nil {
			return fmt.Errorf("%w; after fixing that, continue with: %s", runErr, resume)
		}
	case errs.KindInterrupted:
		return errs.New(errs.KindInterrupted, "%v; resume with: %s", runErr, resume)
	case errs.KindPartial:
		if len(sum.Failed) == 0 {
			// Only unknown users: a resume would not ask again.
			return errs.New(errs.KindPartial, "%v: their tokens, if any, were not revoked; check the identifiers (a login where the IdP wants an email, or the reverse), or, if those accounts are known to be deleted already, accept them with: %s --allow-missing", runErr, resume)
		}
		return errs.New(errs.KindPartial, "%v; retry them with: %s", runErr, resume)
	default:
		return errs.New(errs.KindOf(runErr), "%v; after fixing that, continue with: %s", runErr, resume)
	}
	if n := len(in.list.Problems); n > 0 {
		return errs.New(errs.KindPartial, "%s of %s could not be read, so those users were not revoked (listed above)", plural(n, "line"), in.name)
	}
	return auditErr
}

// shellSafe matches arguments that need no quoting in a shell.
var shellSafe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9@%_+=:,./-]+$`) })

func shellQuote(s string) string {
	if shellSafe().MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// resumeCommand is the command line that continues this run.
func (o *AdminOptions) resumeCommand() string {
	parts := []string{"idpctl", "token", "revoke"}
	add := func(flag, v string) {
		if v != "" {
			parts = append(parts, flag, shellQuote(v))
		}
	}
	add("--profile", o.ProfileFlag)
	add("--users-file", o.UsersFile)
	add("--column", o.Column)
	add("--client", o.Client)
	add("--method", o.Method)
	if o.IncludeAppRoles {
		parts = append(parts, "--include-app-roles")
	}
	if o.Output == "json" {
		parts = append(parts, "-o", "json")
	}
	if o.Yes {
		parts = append(parts, "--yes")
	}
	if o.AllowMissing {
		parts = append(parts, "--allow-missing")
	}
	parts = append(parts, "--resume")
	s := strings.Join(parts, " ")
	if o.UsersFile == "-" {
		s += " (with the same list on stdin)"
	}
	return s
}

func writePlan(pr *ui.Printer, doc planDoc, in *input) {
	scope := "in every client"
	if doc.Client != "" {
		scope = "in client " + doc.Client
	}
	pr.Println(pr.Heading(fmt.Sprintf("Plan: revoke the tokens of %s %s at %s (profile %s)", plural(doc.Users, "user"), scope, doc.Provider, doc.Profile)))
	for _, up := range doc.Plan {
		pr.Printf("  %s:\n", up.User)
		for _, c := range up.Calls {
			pr.Printf("    %s\n", c.String())
		}
	}
	if rest := doc.Users - len(doc.Plan); rest > 0 {
		pr.Printf("  ... and the same for %d more %s\n", rest, pluralWord(rest, "user"))
	}
	if doc.Done > 0 {
		pr.Println(pr.Dim(fmt.Sprintf("%d of the %d users in %s were done by an earlier run and are skipped.", doc.Done, doc.Done+doc.Users, in.name)))
	}
	if in.list != nil {
		if in.list.Column != "" {
			pr.Println(pr.Dim(fmt.Sprintf("Users read from column %q of %s.", in.list.Column, in.name)))
		}
		if doc.Duplicates > 0 {
			pr.Println(pr.Dim(fmt.Sprintf("%s left out as duplicates.", plural(doc.Duplicates, "line"))))
		}
		if n := len(doc.Problems); n > 0 {
			pr.Println(pr.Warning(fmt.Sprintf("%s of %s could not be read; %s left out:", plural(n, "line"), in.name, pluralWord(n, "its user is", "their users are"))))
			for i, pb := range doc.Problems {
				if i == 10 {
					pr.Printf("  ... and %d more\n", n-10)
					break
				}
				pr.Printf("  %s\n", pb)
			}
		}
	}
}

func resultLine(pr *ui.Printer, r offboard.Result) string {
	word := string(r.Outcome)
	switch r.Outcome {
	case provider.OutcomeRevoked, provider.OutcomeAccepted:
		word = pr.Success(word)
	case provider.OutcomeFailed:
		word = pr.Failure(word)
	default:
		word = pr.Warning(word)
	}
	line := r.User
	if r.Client != "" {
		line += " (client " + r.Client + ")"
	}
	line += ": " + word
	switch {
	case r.Error != "":
		line += ": " + r.Error
	case r.Detail != "":
		line += " (" + r.Detail + ")"
	}
	if r.Resumed {
		line += pr.Dim(" [done in an earlier run]")
	}
	return line
}

func writeNotable(pr *ui.Printer, rs []offboard.Result) {
	if len(rs) == 0 {
		return
	}
	// Users needing attention first, so a long table cut at notableShown
	// never hides one; then in the order they finished.
	rs = append([]offboard.Result(nil), rs...)
	sort.SliceStable(rs, func(i, j int) bool { return attention(rs[i]) > attention(rs[j]) })
	rows := [][]string{}
	for i, r := range rs {
		if i == notableShown {
			break
		}
		rows = append(rows, []string{r.User, string(r.Outcome), firstOf(r.Error, r.Detail)})
	}
	pr.Table([]string{"USER", "RESULT", "DETAIL"}, rows)
	if len(rs) > notableShown {
		pr.Printf("... and %d more: see 'idpctl audit --action revoke_user' or run with -o json\n", len(rs)-notableShown)
	}
	pr.Println()
}

// attention ranks a result for the table: failures first.
func attention(r offboard.Result) int {
	switch r.Outcome {
	case provider.OutcomeFailed:
		return 3
	case provider.OutcomeUserNotFound:
		return 2
	case provider.OutcomeNothingToRevoke:
		return 1
	}
	return 0
}

// summaryOrder lists outcomes as people read them: good news first.
var summaryOrder = []provider.Outcome{provider.OutcomeRevoked, provider.OutcomeAccepted, provider.OutcomeNothingToRevoke, provider.OutcomeUserNotFound, provider.OutcomeFailed}

func writeSummary(pr *ui.Printer, sum *offboard.Summary) {
	rows := [][]string{}
	seen := map[provider.Outcome]bool{}
	// This run's results; what an earlier run did is one row of its own,
	// so an interrupted or resumed run does not claim it.
	counts := sum.ThisRun
	if counts == nil {
		counts = sum.Counts
	}
	for _, oc := range summaryOrder {
		seen[oc] = true
		if n := counts[oc]; n > 0 {
			rows = append(rows, []string{string(oc), fmt.Sprint(n)})
		}
	}
	var other []string
	for oc := range counts {
		if !seen[oc] {
			other = append(other, string(oc))
		}
	}
	sort.Strings(other)
	for _, oc := range other {
		rows = append(rows, []string{oc, fmt.Sprint(counts[provider.Outcome(oc)])})
	}
	if sum.NotStarted > 0 {
		rows = append(rows, []string{"not started", fmt.Sprint(sum.NotStarted)})
	}
	if sum.Resumed > 0 && sum.ThisRun != nil {
		rows = append(rows, []string{"done in an earlier run", fmt.Sprint(sum.Resumed)})
	}
	pr.Table([]string{"RESULT", "USERS"}, rows)
	// This run's work: the users it sent, not those left for a resume.
	extra := fmt.Sprintf("%s this run in %s", plural(sum.Total-sum.Resumed-sum.NotStarted, "user"), sum.Elapsed.Round(100*time.Millisecond))
	if sum.Resumed > 0 || sum.NotStarted > 0 {
		extra += fmt.Sprintf(" (%d in the list)", sum.Total)
	}
	if sum.Pauses > 0 {
		extra += fmt.Sprintf(", %s (rate limit or unreachable API)", plural(sum.Pauses, "pause"))
	}
	pr.Println(pr.Dim(extra))
}

func plural(n int, word string) string { return fmt.Sprintf("%d %s", n, pluralWord(n, word)) }

// pluralWord picks the singular or plural; the plural defaults to word+"s".
func pluralWord(n int, word string, pluralForm ...string) string {
	if n == 1 {
		return word
	}
	if len(pluralForm) > 0 {
		return pluralForm[0]
	}
	return word + "s"
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
