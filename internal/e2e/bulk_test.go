package e2e

// Bulk offboarding (token revoke --users-file) run by the built binary:
// against a fixed-rate limit, interrupted by a real SIGINT and resumed,
// with failures planted for chosen users, and proved at the fake user by
// user.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider/hydra/hydrafake"
	"github.com/idpctl/idpctl/internal/provider/keycloak/keycloakfake"
	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
)

// oktaLimiter stands in front of an Okta fake and enforces a fixed rate,
// as Okta does per endpoint: at most limit requests per one-second
// window, each answered with X-Rate-Limit-Limit, -Remaining and -Reset
// (the window's end in epoch seconds); past the limit, 429 with Okta's
// E0000047 body and Remaining 0. It records every answer's status.
type oktaLimiter struct {
	URL   string
	limit int

	srv   *httptest.Server
	proxy *httputil.ReverseProxy

	mu      sync.Mutex
	window  int64
	used    int
	passed  int
	limited int
	seen    []seenRequest
}

type seenRequest struct {
	method, path string
	status       int
}

func newOktaLimiter(t testing.TB, target string, limit int) *oktaLimiter {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l := &oktaLimiter{limit: limit, proxy: httputil.NewSingleHostReverseProxy(u)}
	l.proxy.ModifyResponse = func(resp *http.Response) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		// The fake's own budget (600 a minute) is not the one enforced here.
		l.setHeaders(resp.Header, l.limit-l.used)
		l.seen = append(l.seen, seenRequest{method: resp.Request.Method, path: resp.Request.URL.Path, status: resp.StatusCode})
		return nil
	}
	l.srv = httptest.NewServer(l)
	t.Cleanup(l.srv.Close)
	l.URL = l.srv.URL
	return l
}

// setHeaders writes the current window; the caller holds mu.
func (l *oktaLimiter) setHeaders(h http.Header, remaining int) {
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(l.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(l.window+1, 10))
}

func (l *oktaLimiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	if sec := time.Now().Unix(); sec != l.window {
		l.window, l.used = sec, 0
	}
	if l.used >= l.limit {
		l.limited++
		l.setHeaders(w.Header(), 0)
		l.seen = append(l.seen, seenRequest{method: r.Method, path: r.URL.Path, status: http.StatusTooManyRequests})
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests.",
			"errorLink": "E0000047", "errorId": "oae-rate-limit", "errorCauses": []any{},
		})
		return
	}
	l.used++
	l.passed++
	l.mu.Unlock()
	l.proxy.ServeHTTP(w, r)
}

// counts returns how many requests passed to the fake and how many were
// refused with 429.
func (l *oktaLimiter) counts() (passed, limited int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.passed, l.limited
}

// statuses counts the answers per "METHOD path status".
func (l *oktaLimiter) statuses() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for _, s := range l.seen {
		out[fmt.Sprintf("%s %s %d", s.method, s.path, s.status)]++
	}
	return out
}

// lineCount counts complete lines of a process's stdout so far.
func (p *Proc) lineCount() int { return strings.Count(p.stdout.String(), "\n") }

var (
	resumeHint  = regexp.MustCompile(`resume with: (idpctl token revoke [^\n]*--resume)`)
	interrupted = regexp.MustCompile(`interrupted: (\d+) of (\d+) users done, (\d+) failed, (\d+) not started`)
)

func TestBulkRevocationSurvivesSIGINTAndResumesWithoutRevokingAnyoneTwice(t *testing.T) {
	t.Parallel()
	const (
		users = 300
		limit = 60 // requests per second
	)
	f := oktafake.New(t, oktafake.Options{})
	t.Cleanup(f.Close)
	noViolations(t, "okta", f.Violations)
	f.AddAuthorizationServer("default")
	lim := newOktaLimiter(t, f.URL, limit)

	// Every fifth user is unknown to Okta; a few rows come twice; the
	// CSV's user column is not the first.
	login := func(i int) string {
		if i%5 == 4 {
			return fmt.Sprintf("ghost%03d@example.com", i)
		}
		return fmt.Sprintf("user%03d@example.com", i)
	}
	id := func(i int) string { return fmt.Sprintf("00u%04d", i) }
	var csv strings.Builder
	csv.WriteString("employee_id,login,department\n")
	existing := 0
	for i := 0; i < users; i++ {
		if i%5 != 4 {
			existing++
			f.AddUser(oktafake.User{ID: id(i), Login: login(i), Email: login(i)})
			f.AddSessions(id(i), 1)
			f.AddRefreshTokens(id(i), "0oa1payroll", 1)
		}
		fmt.Fprintf(&csv, "E%04d,%s,sales\n", i, login(i))
		if i == 50 || i == 120 || i == 121 {
			fmt.Fprintf(&csv, "E%04d,%s,sales\n", i, login(i))
		}
	}
	// Two users early in the list meet a 500 on their revocation, once.
	planted := []int{3, 11}
	for _, i := range planted {
		f.Inject(oktafake.Injection{Method: http.MethodDelete, PathPrefix: "/api/v1/users/" + id(i) + "/sessions", Fault: oktafake.Fault500})
	}

	e := adminEnv(t, "okta", lim.URL+"/oauth2/default", f.Token(), viaFile, "url="+lim.URL)
	file := e.WriteFile(t, "leavers.csv", csv.String(), false)
	// The ghosts stand for accounts HR lists that were deleted already.
	args := []string{"token", "revoke", "--users-file", file, "--column", "login", "--yes", "--parallel", "4", "-o", "json", "--allow-missing"}

	began := time.Now()
	p := start(t, e, "", args...)
	halfway := time.After(runTimeout)
	for p.lineCount() < users/2 {
		select {
		case <-p.Done():
			t.Fatalf("the run ended before half the users were done\n%s", p.result())
		case <-halfway:
			t.Fatalf("half the users were not done within %s\n%s", runTimeout, p.result())
		case <-time.After(10 * time.Millisecond):
		}
	}
	p.Signal(syscall.SIGINT)
	first := p.waitResult(runTimeout)
	firstTook := time.Since(began)
	firstPassed, _ := lim.counts()
	if first.Code != 130 {
		t.Fatalf("want exit 130 after SIGINT\n%s", first)
	}
	m := resumeHint.FindStringSubmatch(first.Stderr)
	if m == nil {
		t.Fatalf("the interrupted run does not say how to resume\n%s", first)
	}
	firstLines := jsonLines(t, first.Stdout)
	if len(firstLines) >= users {
		t.Fatalf("SIGINT stopped nothing: %d results", len(firstLines))
	}
	t.Logf("interrupted after %d of %d users in %s", len(firstLines), users, firstTook.Round(time.Millisecond))

	t.Run("the interrupted run's tally matches its results", func(t *testing.T) {
		c := interrupted.FindStringSubmatch(first.Stderr)
		if c == nil {
			t.Fatalf("no tally in\n%s", first.Stderr)
		}
		failed := 0
		for _, l := range firstLines {
			if field(l, "result") == "failed" {
				failed++
			}
		}
		want := []int{len(firstLines) - failed, users, failed, users - len(firstLines)}
		for i, w := range want {
			if got, _ := strconv.Atoi(c[i+1]); got != w {
				t.Errorf("tally %q: want %d users done, %d in all, %d failed, %d not started", c[0], want[0], want[1], want[2], want[3])
				break
			}
		}
	})
	t.Run("running the list again without --resume is refused with the hint", func(t *testing.T) {
		passed, limited := lim.counts()
		r := run(t, e, "", args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, "--resume") || !strings.Contains(r.Stderr, "--restart") {
			t.Errorf("want exit 2 naming --resume and --restart\n%s", r)
		}
		if p2, l2 := lim.counts(); p2 != passed || l2 != limited {
			t.Errorf("the refused run sent %d requests", p2+l2-passed-limited)
		}
	})

	hinted := strings.Fields(m[1])[1:]
	resumedAt := time.Now()
	second := run(t, e, "", hinted...)
	secondTook := time.Since(resumedAt)
	if second.Code != 0 {
		t.Fatalf("the resumed run (%s) did not finish cleanly\n%s", m[1], second)
	}
	secondLines := jsonLines(t, second.Stdout)

	t.Run("the resumed run reports every user once, with the final tally", func(t *testing.T) {
		byUser := map[string]map[string]any{}
		counts := map[string]int{}
		resumed := 0
		for _, l := range secondLines {
			u := field(l, "user")
			if byUser[u] != nil {
				t.Errorf("user %s reported twice", u)
			}
			byUser[u] = l
			counts[field(l, "result")]++
			if field(l, "resumed") == "true" {
				resumed++
			}
		}
		if len(byUser) != users || counts["revoked"] != existing || counts["user not found"] != users-existing {
			t.Errorf("%d users reported, results %v; want %d: %d revoked, %d not found", len(byUser), counts, users, existing, users-existing)
		}
		firstDone := 0
		for _, l := range firstLines {
			if field(l, "result") != "failed" {
				firstDone++
			}
		}
		if resumed != firstDone {
			t.Errorf("%d results carried over from the first run, which finished %d", resumed, firstDone)
		}
		// The resumed run's plan counts only the users left.
		if want := fmt.Sprintf("Plan: revoke the tokens of %d users", users-firstDone); !strings.Contains(second.Stderr, want) || !strings.Contains(second.Stderr, fmt.Sprintf("%d of the %d users in", firstDone, users)) {
			t.Errorf("the resumed plan does not say %q and how many were done before\n%s", want, second.Stderr)
		}
		for _, i := range planted {
			l := byUser[login(i)]
			if field(l, "result") != "revoked" || field(l, "resumed") == "true" {
				t.Errorf("planted failure %s: %v, want revoked by the resumed run", login(i), l)
			}
		}
	})
	t.Run("the fake revoked every user exactly once and refused the unknown ones once", func(t *testing.T) {
		st := lim.statuses()
		for i := 0; i < users; i++ {
			if i%5 == 4 {
				if n := st["GET /api/v1/users/"+login(i)+" 404"]; n != 1 {
					t.Errorf("unknown user %s was looked up %d times, want 1", login(i), n)
				}
				continue
			}
			if n := st["DELETE /api/v1/users/"+id(i)+"/sessions 204"]; n != 1 {
				t.Errorf("user %s was revoked %d times, want 1", login(i), n)
			}
			if f.Sessions(id(i)) != 0 || f.RefreshTokens(id(i), "") != 0 {
				t.Errorf("user %s keeps sessions or refresh tokens", login(i))
			}
		}
		for _, i := range planted {
			if n := st["DELETE /api/v1/users/"+id(i)+"/sessions 500"]; n != 1 {
				t.Errorf("planted failure %s met %d 500s, want 1", login(i), n)
			}
		}
	})
	t.Run("the first run reported the planted failures as failed", func(t *testing.T) {
		for _, i := range planted {
			found := false
			for _, l := range firstLines {
				if field(l, "user") == login(i) {
					found = true
					if field(l, "result") != "failed" || !strings.Contains(field(l, "error"), "500") {
						t.Errorf("planted failure %s: %v", login(i), l)
					}
				}
			}
			if !found {
				t.Errorf("the first run did not reach planted failure %s", login(i))
			}
		}
	})
	t.Run("the audit log holds one line per call made, none for carried-over users", func(t *testing.T) {
		want := len(firstLines)
		for _, l := range secondLines {
			if field(l, "resumed") != "true" {
				want++
			}
		}
		entries := auditEntries(t, e)
		if got := len(auditFind(entries, "revoke_user", "revoked")) + len(auditFind(entries, "revoke_user", "user not found")) + len(auditFind(entries, "revoke_user", "failed")); got != want || got != len(entries) {
			t.Errorf("%d revocation lines among %d audit lines, want %d", got, len(entries), want)
		}
	})
	t.Run("no journal is left behind", func(t *testing.T) {
		dir := filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "journals")
		entries, _ := os.ReadDir(dir)
		for _, en := range entries {
			if strings.HasSuffix(en.Name(), ".jsonl") {
				t.Errorf("journal %s remains after the list finished", en.Name())
			}
		}
	})

	// N requests at L a second need ceil(N/L) distinct one-second
	// windows, so a run spans at least ceil(N/L)-1 seconds.
	passed, limited := lim.counts()
	windows := func(n int) time.Duration { return time.Duration((n+limit-1)/limit-1) * time.Second }
	floor := windows(firstPassed) + windows(passed-firstPassed)
	t.Logf("%d requests reached the IdP and %d were refused with 429; wall time %s (first run %s, resumed run %s); the limit of %d a second allows no less than %s",
		passed, limited, (firstTook + secondTook).Round(time.Millisecond), firstTook.Round(time.Millisecond), secondTook.Round(time.Millisecond), limit, floor)
	if limited == 0 {
		t.Error("no request was refused with 429: the run never met the rate limit it is meant to prove")
	}
}

func TestBulkRevocationReadsAPlainListSkippingCommentsAndDuplicates(t *testing.T) {
	t.Parallel()
	f := hydrafake.New(t)
	t.Cleanup(f.Close)
	noViolations(t, "hydra", f.Errors)
	f.AddClient("wiki", nil)
	subjects := []string{"alice", "bob", "carol", "dave"}
	for _, s := range subjects {
		f.AddConsent(s, "wiki")
	}
	e := adminEnv(t, "hydra", f.URL, "", viaFile, "url="+f.URL)
	list := "# leavers, March\nalice\nbob\n\nalice\ncarol\n# late additions\ndave\nbob\nerin\n"
	file := e.WriteFile(t, "leavers.txt", list, false)
	r := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("want exit 0\n%s", r)
	}
	lines := jsonLines(t, r.Stdout)
	results := map[string]string{}
	for _, l := range lines {
		results[field(l, "user")] = field(l, "result")
	}
	want := map[string]string{"alice": "revoked", "bob": "revoked", "carol": "revoked", "dave": "revoked", "erin": "nothing to revoke"}
	if len(lines) != len(want) || fmt.Sprint(results) != fmt.Sprint(want) {
		t.Errorf("results %v, want %v", results, want)
	}
	if !strings.Contains(r.Stderr, "2 lines left out as duplicates") {
		t.Errorf("the plan does not say duplicates were left out\n%s", r)
	}
	for _, s := range append(subjects, "erin") {
		var n int
		for _, req := range f.Requests() {
			if req.Method == http.MethodGet && req.Path == "/admin/oauth2/auth/sessions/consent" && req.Query.Get("subject") == s {
				n++
			}
		}
		if n != 1 {
			t.Errorf("subject %s was worked on %d times, want 1", s, n)
		}
		if len(f.Consents(s)) != 0 {
			t.Errorf("subject %s keeps consents", s)
		}
	}
}

func TestBulkRevocationCountsAnHTMLErrorPageAsAFailedUser(t *testing.T) {
	t.Parallel()
	f := keycloakfake.New(t, "acme")
	t.Cleanup(f.Close)
	noViolations(t, "keycloak", f.Errors)
	f.AddClient("wiki", nil)
	ids := map[string]string{}
	for _, u := range []string{"alice", "bob", "carol"} {
		ids[u] = f.AddUser(u, u+"@example.com")
		f.AddSession(ids[u], "wiki")
	}
	e := adminEnv(t, "keycloak", f.URL+"/realms/acme", f.AdminSecret, viaFile, "client_id="+f.AdminClientID)
	file := e.WriteFile(t, "leavers.txt", "alice\nbob\ncarol\n", false)
	f.Fail(http.MethodPost, "/admin/realms/acme/users/"+ids["bob"]+"/logout", keycloakfake.HTMLPage, 1)

	r := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json")
	if r.Code != 8 {
		t.Fatalf("want exit 8 (partial failure)\n%s", r)
	}
	for _, l := range jsonLines(t, r.Stdout) {
		want := "revoked"
		if field(l, "user") == "bob" {
			want = "failed"
			if !strings.Contains(field(l, "error"), "HTML") {
				t.Errorf("bob's failure does not say an HTML page came back: %v", l)
			}
		}
		if field(l, "result") != want {
			t.Errorf("%s: %v, want %s", field(l, "user"), l, want)
		}
	}
	if len(f.Sessions(ids["bob"])) != 1 || len(f.Sessions(ids["alice"])) != 0 || len(f.Sessions(ids["carol"])) != 0 {
		t.Error("the sessions do not match the results")
	}
	if !strings.Contains(r.Stderr, "--resume") {
		t.Errorf("the partial failure does not say how to retry\n%s", r)
	}

	again := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json", "--resume")
	if again.Code != 0 {
		t.Fatalf("want exit 0 after retrying the failed user\n%s", again)
	}
	for _, l := range jsonLines(t, again.Stdout) {
		resumed := field(l, "resumed") == "true"
		if field(l, "result") != "revoked" || resumed == (field(l, "user") == "bob") {
			t.Errorf("%s on resume: %v", field(l, "user"), l)
		}
	}
	if len(f.Sessions(ids["bob"])) != 0 {
		t.Error("bob's session survived the retry")
	}
	if n := requestsTo(f.Requests(), keycloakReq, http.MethodPost, "/admin/realms/acme/users/"+ids["alice"]+"/logout"); n != 1 {
		t.Errorf("alice was logged out %d times, want 1", n)
	}
}

func TestBulkRevocationCountsAUserTheIdPDoesNotKnowAsAFailure(t *testing.T) {
	t.Parallel()
	f := keycloakfake.New(t, "acme")
	t.Cleanup(f.Close)
	noViolations(t, "keycloak", f.Errors)
	f.AddClient("wiki", nil)
	for _, u := range []string{"alice", "carol"} {
		f.AddSession(f.AddUser(u, u+"@example.com"), "wiki")
	}
	e := adminEnv(t, "keycloak", f.URL+"/realms/acme", f.AdminSecret, viaFile, "client_id="+f.AdminClientID)
	file := e.WriteFile(t, "leavers.txt", "alice\nbobby-typo\ncarol\n", false)

	r := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json")
	if r.Code != 8 {
		t.Fatalf("want exit 8: a departed user the IdP does not know must not pass silently\n%s", r)
	}
	for _, l := range jsonLines(t, r.Stdout) {
		if field(l, "user") == "bobby-typo" && field(l, "result") != "user not found" {
			t.Errorf("bobby-typo: %v", l)
		}
	}
	for _, want := range []string{"1 of 3 users failed (1 not found at the IdP)", "check the identifiers", "--resume --allow-missing"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, r)
		}
	}
	again := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json", "--resume", "--allow-missing")
	if again.Code != 0 {
		t.Fatalf("accepting the unknown user: want exit 0\n%s", again)
	}
	for _, l := range jsonLines(t, again.Stdout) {
		if field(l, "resumed") != "true" {
			t.Errorf("%s was asked again: %v", field(l, "user"), l)
		}
	}

	one := run(t, e, "", "token", "revoke", "--user", "bobby-typo", "--yes", "-o", "json")
	if one.Code != 1 || !strings.Contains(one.Stderr, `does not know user "bobby-typo"`) || field(jsonObject(t, one), "result") != "user not found" {
		t.Fatalf("one unknown user: want exit 1 naming the user\n%s", one)
	}
	if ok := run(t, e, "", "token", "revoke", "--user", "bobby-typo", "--yes", "-o", "json", "--allow-missing"); ok.Code != 0 {
		t.Fatalf("with --allow-missing: want exit 0\n%s", ok)
	}
}
