package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// secretVia says how a test hands the admin credential to idpctl; never
// on argv.
type secretVia int

const (
	// viaStdin stores it with 'profile add --admin-secret-stdin'.
	viaStdin secretVia = iota
	// viaFile names a 0600 file in IDPCTL_ADMIN_SECRET_FILE.
	viaFile
)

// adminEnv is a clean environment whose own profile drives provider's
// admin API: the profile is written by 'idpctl profile add' with the
// settings as --admin KEY=VALUE, and the admin secret (recorded as a
// secret of the environment) goes in as via says.
func adminEnv(t testing.TB, provider, issuer, secret string, via secretVia, settings ...string) *Env {
	t.Helper()
	e := newEnv(t)
	args := []string{"profile", "add", e.Get("IDPCTL_PROFILE"), "--provider", provider, "--issuer", issuer}
	for _, s := range settings {
		args = append(args, "--admin", s)
	}
	stdin := ""
	if via == viaStdin && e.Get("IDPCTL_STORE") == "memory" {
		// A memory store forgets the credential when profile add exits.
		via = viaFile
	}
	if secret != "" {
		e.Secret(secret)
		switch via {
		case viaStdin:
			args = append(args, "--admin-secret-stdin")
			stdin = secret
		case viaFile:
			e.Set("IDPCTL_ADMIN_SECRET_FILE", e.WriteFile(t, "admin-secret", secret+"\n", true))
		}
	}
	r := mustRun(t, e, stdin, args...)
	if r.Stdout != "" {
		t.Fatalf("profile add printed data on stdout:\n%s", r)
	}
	return e
}

// adminSession runs one provider's admin commands and counts the admin
// actions that must each have appended exactly one audit line.
type adminSession struct {
	e        *Env
	provider string
	actions  int
	// last is the latest revocation run by revoke.
	last Result
}

// run runs idpctl and checks the exit status; stdout may carry the
// per-user result of a failed admin action, so it is not checked here.
func (s *adminSession) run(t testing.TB, code int, args ...string) Result {
	t.Helper()
	r := run(t, s.e, "", args...)
	if r.Code != code {
		t.Fatalf("want exit %d\n%s", code, r)
	}
	return r
}

// act is run for an admin action that reaches the IdP: one audit line.
func (s *adminSession) act(t testing.TB, code int, args ...string) Result {
	t.Helper()
	s.actions++
	return s.run(t, code, args...)
}

// revoke runs 'token revoke --user USER ARGS --yes -o json' expecting
// exit 0 and returns the one JSON result object.
func (s *adminSession) revoke(t testing.TB, user string, args ...string) map[string]any {
	t.Helper()
	r := s.act(t, 0, append(append([]string{"token", "revoke", "--user", user}, args...), "--yes", "-o", "json")...)
	s.last = r
	res := jsonObject(t, r)
	if got := field(res, "user"); got != user {
		t.Errorf("result is for user %q, want %q\n%s", got, user, r)
	}
	return res
}

// revokeUnknown runs 'token revoke --user USER ARGS --yes -o json' for a
// user the IdP does not know: without --allow-missing that is exit 1 with
// the result still reported; it returns the result object.
func (s *adminSession) revokeUnknown(t testing.TB, user string, args ...string) map[string]any {
	t.Helper()
	r := s.act(t, 1, append(append([]string{"token", "revoke", "--user", user}, args...), "--yes", "-o", "json")...)
	s.last = r
	if !strings.Contains(r.Stderr, "does not know user") || !strings.Contains(r.Stderr, "--allow-missing") {
		t.Errorf("an unknown user is not reported loudly\n%s", r)
	}
	return jsonObject(t, r)
}

// wantResult checks a revocation result object.
func wantResult(t testing.TB, res map[string]any, result string) {
	t.Helper()
	if got := field(res, "result"); got != result {
		t.Fatalf("result %q, want %q: %v", got, result, res)
	}
}

// dryRun checks that 'token revoke --dry-run' prints the planned calls
// and sends nothing.
func (s *adminSession) dryRun(t testing.TB, requests func() int, user string, args []string, wantCalls ...string) {
	t.Helper()
	before := requests()
	r := s.run(t, 0, append([]string{"token", "revoke", "--user", user, "--dry-run"}, args...)...)
	for _, c := range wantCalls {
		if !strings.Contains(r.Stdout, c) {
			t.Errorf("the plan does not show %q\n%s", c, r)
		}
	}
	if !strings.Contains(r.Stderr, "nothing was sent") {
		t.Errorf("the dry run does not say nothing was sent\n%s", r)
	}
	if n := requests() - before; n != 0 {
		t.Errorf("the dry run sent %d requests", n)
	}
}

// needsYes checks that without a terminal and without --yes a revocation
// is refused with exit 2 before any request.
func (s *adminSession) needsYes(t testing.TB, requests func() int, user string) {
	t.Helper()
	before := requests()
	r := s.run(t, 2, "token", "revoke", "--user", user)
	if !strings.Contains(r.Stderr, "--yes") {
		t.Errorf("the refusal does not name --yes\n%s", r)
	}
	if n := requests() - before; n != 0 {
		t.Errorf("an unconfirmed revocation sent %d requests", n)
	}
}

// stillValidOnce checks the sentence a revocation ends with on stderr:
// "Access tokens already issued stay valid" followed by the adapter's
// StillValid, which provider.RevokeUserResult documents as a fragment
// ("up to 1h (...)"), so that the sentence reads once and makes sense.
func stillValidOnce(t testing.TB, r Result) {
	t.Helper()
	const lead = "Access tokens already issued stay valid "
	for _, line := range strings.Split(r.Stderr, "\n") {
		rest, ok := strings.CutPrefix(line, lead)
		if !ok {
			continue
		}
		if !strings.HasPrefix(rest, "up to ") && !strings.HasPrefix(rest, "until ") || strings.Contains(rest, "stay valid") {
			t.Errorf("the sentence on how long access tokens stay valid does not read: %q", line)
		}
		return
	}
	t.Errorf("the revocation does not say how long issued access tokens stay valid\n%s", r)
}

// checkAudit checks that the log holds one line per admin action, each
// naming the provider and the profile.
func (s *adminSession) checkAudit(t testing.TB) []map[string]any {
	t.Helper()
	entries := auditEntries(t, s.e)
	if len(entries) != s.actions {
		t.Errorf("the audit log has %d entries for %d admin actions:\n%v", len(entries), s.actions, entries)
	}
	for _, en := range entries {
		if field(en, "provider") != s.provider || field(en, "profile") != s.e.Get("IDPCTL_PROFILE") {
			t.Errorf("audit entry names provider %q and profile %q, want %s and %s", field(en, "provider"), field(en, "profile"), s.provider, s.e.Get("IDPCTL_PROFILE"))
		}
		if _, err := time.Parse(time.RFC3339, field(en, "time")); err != nil {
			t.Errorf("audit entry time is not RFC 3339: %v", err)
		}
	}
	return entries
}

// auditEntries lists the audit log through 'idpctl audit -o json'.
func auditEntries(t testing.TB, e *Env) []map[string]any {
	t.Helper()
	return jsonLines(t, mustRun(t, e, "", "audit", "-o", "json").Stdout)
}

// auditLogFile is the raw audit log of the environment.
func auditLogFile(t testing.TB, e *Env) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "audit.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// wantAudit returns the last entry of the action whose subject (user or
// app) and result match, failing when there is none.
func wantAudit(t testing.TB, entries []map[string]any, action, subject, result string) map[string]any {
	t.Helper()
	for i := len(entries) - 1; i >= 0; i-- {
		en := entries[i]
		if field(en, "action") != action || field(en, "result") != result {
			continue
		}
		if subject == "" || field(en, "user") == subject || field(en, "app") == subject {
			return en
		}
	}
	t.Fatalf("the audit log has no %s entry for %q with result %q:\n%v", action, subject, result, entries)
	return nil
}

// jsonObject decodes stdout, which must hold exactly one JSON object.
func jsonObject(t testing.TB, r Result) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, r)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value\n%s", r)
	}
	return m
}

// jsonLines decodes JSON lines, failing on any line that is not an object.
func jsonLines(t testing.TB, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// field reads the value at a path of object members as text: strings as
// they are, other values as JSON, "" when absent or null.
func field(m map[string]any, path ...string) string {
	var cur any = m
	for _, k := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = obj[k]
	}
	switch v := cur.(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// object reads a member that is a JSON object.
func object(m map[string]any, path ...string) map[string]any {
	var cur any = m
	for _, k := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[k]
	}
	obj, _ := cur.(map[string]any)
	return obj
}

// noneIn fails when text contains any of the values.
func noneIn(t testing.TB, where, text string, values []string) {
	t.Helper()
	for _, v := range values {
		if v != "" && strings.Contains(text, v) {
			t.Errorf("%s shows a secret value (%.10s...)", where, v)
		}
	}
}

// privateMember finds a private JWK member (RFC 7518 §6.3.2, §6.4.1) with
// its value.
var privateMember = regexp.MustCompile(`"(d|p|q|dp|dq|qi|k)"\s*:\s*"([^"]*)"`)

// noPrivateMembers fails when text carries a private JWK member whose
// value is not blanked, or any of the private values a fake generated.
func noPrivateMembers(t testing.TB, where, text string, values []string) {
	t.Helper()
	for _, m := range privateMember.FindAllStringSubmatch(text, -1) {
		if m[2] != "[redacted]" {
			t.Errorf("%s carries the private JWK member %q with a value", where, m[1])
		}
	}
	noneIn(t, where, text, values)
}

// sameExcept compares two JSON objects member by member, ignoring the
// named members, and reports each one that changed.
func sameExcept(t testing.TB, what string, before, after map[string]any, ignore ...string) {
	t.Helper()
	if before == nil || after == nil {
		t.Fatalf("%s: nothing to compare (before %v, after %v)", what, before, after)
	}
	skip := map[string]bool{}
	for _, k := range ignore {
		skip[k] = true
	}
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		if !skip[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		b, bok := before[k]
		a, aok := after[k]
		if bok != aok || !reflect.DeepEqual(normalJSON(b), normalJSON(a)) {
			t.Errorf("%s: %q changed although the change did not name it: before %v, after %v", what, k, b, a)
		}
	}
}

// normalJSON round-trips a value through JSON so that numbers compare
// alike whatever type a fake stored them as.
func normalJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// timed runs idpctl and returns how long it took.
func timed(t testing.TB, e *Env, args ...string) (Result, time.Duration) {
	t.Helper()
	start := time.Now()
	r := run(t, e, "", args...)
	return r, time.Since(start)
}

// jwksKids fetches a JWK Set from a loopback fake and lists its kids.
func jwksKids(t testing.TB, url string) []string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("fetch %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &set) != nil {
		t.Fatalf("%s: HTTP %d, not a JWK Set: %.200s", url, resp.StatusCode, body)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

func hasString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// noViolations registers a check, at the end of the test, that the fake
// saw no request outside its contract.
func noViolations(t *testing.T, name string, violations func() []string) {
	t.Cleanup(func() {
		if v := violations(); len(v) > 0 {
			t.Errorf("the %s fake saw requests outside its contract:\n%s", name, strings.Join(v, "\n"))
		}
	})
}
