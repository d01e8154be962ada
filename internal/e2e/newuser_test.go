package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
	"github.com/idpctl/idpctl/internal/sandbox"
)

// The file store says it keeps credentials in plaintext once, when it
// creates its file, and in every doctor report; not on every call, where 20
// parallel jobs or every kubectl exec would repeat it until nobody reads it.
func TestFileStoreWarnsWhenItCreatesTheFileAndInDoctorOnly(t *testing.T) {
	t.Parallel()
	srv := startSandbox(t, sandbox.Options{})
	base := sandboxEnv(t, srv, sandbox.ServiceClientID).Set("IDPCTL_STORE", "file")
	file := filepath.Join(base.Get("XDG_STATE_HOME"), "idpctl", "credentials.json")
	warnings := func(r Result) int { return strings.Count(r.Stderr, "unencrypted") }

	first := mustRun(t, base, "", "token", "get")
	if n := warnings(first); n != 1 || !strings.Contains(first.Stderr, file) {
		t.Errorf("creating the file store: want one warning naming %s, got %d\n%s", file, n, first)
	}
	for _, args := range [][]string{{"token", "get"}, {"token", "get", "--no-cache"}} {
		r := mustRun(t, base, "", args...)
		if warnings(r) != 0 {
			t.Errorf("the warning was repeated by a call that did not create the file\n%s", r)
		}
		if r.Stdout != first.Stdout && args[len(args)-1] != "--no-cache" {
			t.Errorf("stdout changed between cached calls\n%s", r)
		}
		if strings.Count(r.Stdout, "\n") != 1 {
			t.Errorf("stdout is not one token line\n%s", r)
		}
	}
	for _, r := range []Result{first} {
		if strings.Contains(r.Stdout, "unencrypted") || strings.Count(r.Stdout, "\n") != 1 {
			t.Errorf("the warning reached stdout\n%s", r)
		}
	}

	silenced := sandboxEnv(t, srv, sandbox.ServiceClientID).Set("IDPCTL_STORE", "file").Set("IDPCTL_FILE_STORE_WARNING", "off")
	r := mustRun(t, silenced, "", "token", "get")
	if warnings(r) != 0 || r.Stderr != "" {
		t.Errorf("IDPCTL_FILE_STORE_WARNING=off did not silence the warning\n%s", r)
	}
	if strings.Count(r.Stdout, "\n") != 1 {
		t.Errorf("stdout is not one token line\n%s", r)
	}

	// doctor reports the plaintext file every time, whatever the variable.
	for _, e := range []*Env{base, silenced} {
		d := mustRun(t, e, "", "doctor", "-o", "json")
		if !strings.Contains(d.Stdout, "unencrypted") || !strings.Contains(d.Stdout, filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "credentials.json")) {
			t.Errorf("doctor does not report the plaintext file\n%s", d)
		}
	}
}

// Tables fit the terminal: COLUMNS (or the terminal's width) limits every
// line, and wrapping keeps each value whole; piped output without COLUMNS
// is left as it was.
func TestTablesFitColumnsThroughTheBinary(t *testing.T) {
	t.Parallel()
	f := oktafake.New(t, oktafake.Options{Token: "00e2eOktaApiToken-0123456789abcdef"})
	t.Cleanup(f.Close)
	f.AddApp(oktafake.OIDCApp("0oa1payroll", "0oa1payroll", "Payroll"))
	f.AddAuthorizationServer("default")
	f.AddPolicy("default", oktafake.Policy("00p1", "Payroll access policy for contractors and staff", 1, "0oa1payroll"))
	f.AddRule("default", "00p1", oktafake.Rule("0pr1", "Payroll rule for every grant type and every group", 1, 60, 0, 10080))
	e := adminEnv(t, "okta", f.URL+"/oauth2/default", f.Token(), viaFile, "url="+f.URL)

	// An audit log as a busy operator's looks.
	log := filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "audit.log")
	if err := os.MkdirAll(filepath.Dir(log), 0o700); err != nil {
		t.Fatal(err)
	}
	lines := `{"time":"2026-12-03T08:00:25Z","profile":"okta-prod","provider":"okta","action":"token.revoke","user":"alice@example.com","client":"0oa1b2c3d4e5f6g7h8i9","result":"revoked","request_id":"XkZ2mA9q7Yb3cD4eF5gH6iJ7","detail":"revoked 3 grants and 2 refresh tokens; sessions kept"}
{"time":"2026-12-03T08:01:02Z","profile":"kc","provider":"keycloak","action":"key.regen","result":"failed","detail":"the server answered 409 Conflict: another rotation is running"}
`
	if err := os.WriteFile(log, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{"app", "expiry", "get", "0oa1payroll"}, {"audit"}} {
		wide := mustRun(t, e.Clone().Set("TZ", "UTC"), "", args...)
		if longest(wide.Stdout) <= 120 {
			t.Fatalf("%v: the fixture fits in 120 columns, so it tests nothing:\n%s", args, wide)
		}
		for _, width := range []int{80, 120} {
			r := mustRun(t, e.Clone().Set("TZ", "UTC").Set("COLUMNS", strconv.Itoa(width)), "", args...)
			if n := longest(r.Stdout); n > width {
				t.Errorf("%v at %d columns: a line is %d wide\n%s", args, width, n, r)
			}
			// Nothing is lost: every word of the unfitted table is there.
			if got, want := words(r.Stdout), words(wide.Stdout); got != want {
				t.Errorf("%v at %d columns: the words differ from the unfitted table\n%s", args, width, r)
			}
		}
	}
}

func longest(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		n = max(n, utf8.RuneCountInString(l))
	}
	return n
}

// words is the sorted multiset of the characters of s other than blanks:
// wrapping moves characters between lines but must neither lose nor add
// any.
func words(s string) string {
	r := []rune(strings.Join(strings.Fields(s), ""))
	slices.Sort(r)
	return string(r)
}

// docs/ci.md: parallel processes share one grant through the file store;
// the memory store cannot share, so each process runs the grant itself.
func TestParallelGetsShareOneTokenThroughTheFileStoreOnly(t *testing.T) {
	t.Parallel()
	const processes = 8
	for _, c := range []struct {
		store      string
		wantGrants int
	}{{"file", 1}, {"memory", processes}} {
		t.Run(c.store, func(t *testing.T) {
			t.Parallel()
			srv := startSandbox(t, sandbox.Options{})
			e := sandboxEnv(t, srv, sandbox.ServiceClientID).Set("IDPCTL_STORE", c.store).Set("IDPCTL_FILE_STORE_WARNING", "off")
			procs := make([]*Proc, processes)
			for i := range procs {
				procs[i] = start(t, e, "", "token", "get")
			}
			tokens := map[string]bool{}
			for i, p := range procs {
				r := p.waitResult(runTimeout)
				if r.Code != 0 {
					t.Fatalf("process %d failed\n%s", i+1, r)
				}
				if r.Stderr != "" {
					t.Errorf("process %d wrote on stderr\n%s", i+1, r)
				}
				tok := tokenLine(t, r)
				e.Secret(tok)
				tokens[tok] = true
			}
			if n := srv.Requests(sandbox.PathToken); n != c.wantGrants {
				t.Errorf("%d parallel gets with the %s store made %d token requests, want %d", processes, c.store, n, c.wantGrants)
			}
			if len(tokens) != c.wantGrants {
				t.Errorf("%d parallel gets with the %s store printed %d distinct tokens, want %d", processes, c.store, len(tokens), c.wantGrants)
			}
		})
	}
}

// The README's CI recipe works against the sandbox, as the README says:
// every scope it shows is one a sandbox client may ask for, and the
// `token get --scope` line succeeds with the variables `sandbox -o env`
// writes.
func TestTheReadmeScopesWorkAgainstTheSandbox(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	allowed := map[string]bool{}
	srv := startSandbox(t, sandbox.Options{})
	for _, c := range srv.Clients() {
		for _, s := range c.Scopes {
			allowed[s] = true
		}
	}
	for _, m := range regexp.MustCompile("--scope[ =]([^\\s)\"'`]+)").FindAllStringSubmatch(readme, -1) {
		for _, s := range strings.Split(m[1], ",") {
			if !allowed[s] {
				t.Errorf("the README shows scope %q, which no sandbox client may ask for (%v)", s, allowed)
			}
		}
	}
	m := regexp.MustCompile(`\$\(idpctl (token get[^)]*)\)`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("the README no longer shows a $(idpctl token get ...) line")
	}
	args := strings.Fields(m[1])

	e := newEnv(t)
	sb := start(t, e, "", "sandbox", "-o", "env", "--addr", "127.0.0.1:0")
	sb.waitStdout(regexp.MustCompile(`(?m)^export IDPCTL_STORE=\S+\n`), 30*time.Second)
	for _, l := range strings.Split(sb.stdout.String(), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(l, "export "), "=")
		if ok {
			e.Set(k, v)
			if k == "IDPCTL_CLIENT_SECRET" {
				e.Secret(v)
			}
		}
	}
	r := mustRun(t, e, "", args...)
	tok := tokenLine(t, r)
	e.Secret(tok)
}

// With TZ=UTC, token inspect prints each time once, not the same clock
// reading as local time and again as UTC.
func TestInspectPrintsUTCTimesOnceWhenLocalTimeIsUTC(t *testing.T) {
	t.Parallel()
	srv := startSandbox(t, sandbox.Options{})
	e := sandboxEnv(t, srv, sandbox.ServiceClientID).Set("IDPCTL_STORE", "memory").Set("TZ", "UTC")
	tok := getToken(t, e)
	r := mustRun(t, e, tok+"\n", "token", "inspect", "-")
	// The last exp line is the one under Times; the first is the claim.
	all := regexp.MustCompile(`(?m)^\s*exp\s+(.*)$`).FindAllStringSubmatch(r.Stdout, -1)
	if len(all) < 2 {
		t.Fatalf("no exp line under Times\n%s", r)
	}
	exp := all[len(all)-1]
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	if n := len(stamp.FindAllString(exp[1], -1)); n != 1 || strings.Count(exp[1], "UTC") != 1 {
		t.Errorf("with TZ=UTC the exp line shows %d times: %q", n, exp[1])
	}
}

// One setting, one name: IDPCTL_CLIENT_AUTH, IDPCTL_SCOPE and
// IDPCTL_RESOURCE reach the profile as client_auth, scope and resource,
// and the earlier IDPCTL_CLIENT_AUTH_METHOD, IDPCTL_SCOPES and
// IDPCTL_RESOURCES still do.
func TestSettingsGoByTheirCurrentAndEarlierNames(t *testing.T) {
	t.Parallel()
	for _, names := range [][3]string{
		{"IDPCTL_CLIENT_AUTH", "IDPCTL_SCOPE", "IDPCTL_RESOURCE"},
		{"IDPCTL_CLIENT_AUTH_METHOD", "IDPCTL_SCOPES", "IDPCTL_RESOURCES"},
	} {
		e := newEnv(t).Set("IDPCTL_ISSUER", "https://idp.example.com").Set("IDPCTL_CLIENT_ID", "c").
			Set(names[0], "private_key_jwt").Set(names[1], "openid,api:read").Set(names[2], "https://api.example.com")
		doc := jsonObject(t, mustRun(t, e, "", "profile", "show", "-o", "json"))
		prof := object(doc, "profile")
		if prof["client_auth"] != "private_key_jwt" || fmt.Sprint(prof["scope"]) != "[openid api:read]" || fmt.Sprint(prof["resource"]) != "[https://api.example.com]" {
			t.Errorf("%v: profile %v", names, prof)
		}
	}
}

// A typo in a subcommand is a usage error with a suggestion, never the
// group's help with exit 0, which a script would take for success.
func TestAnUnknownSubcommandExits2WithASuggestion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for args, suggestion := range map[string]string{
		"token gte":       "did you mean get?",
		"profile delete":  "did you mean remove?",
		"app expiry sett": "set?",
		"key bogus":       "",
		"boguscmd":        "",
	} {
		r := wantExit(t, e, 2, "", strings.Fields(args)...)
		if r.Stdout != "" || !strings.Contains(r.Stderr, "unknown command") || !strings.Contains(r.Stderr, suggestion) {
			t.Errorf("%s: want nothing on stdout and %q on stderr\n%s", args, suggestion, r)
		}
	}
	if r := mustRun(t, e, "", "token"); !strings.Contains(r.Stdout, "Available Commands") {
		t.Errorf("a group alone still shows its help\n%s", r)
	}
}

// With no profiles, profile list prints nothing a script could take for a
// profile name: the hint goes to stderr.
func TestProfileListWithNoProfilesKeepsStdoutEmpty(t *testing.T) {
	t.Parallel()
	r := mustRun(t, newEnv(t), "", "profile", "list")
	if r.Stdout != "" || !strings.Contains(r.Stderr, "No profiles yet") {
		t.Fatalf("stdout %q\n%s", r.Stdout, r)
	}
}

// doctor on a profile with nothing set (an env file sourced too early, a
// typo in IDPCTL_PROFILE) must not pass.
func TestDoctorFailsAProfileWithoutAnIssuer(t *testing.T) {
	t.Parallel()
	r := run(t, newEnv(t).Set("IDPCTL_STORE", "memory").Unset("IDPCTL_PROFILE"), "", "doctor", "-o", "json")
	if c := doctorRows(t, r)["identity provider"]; field(c, "status") != "fail" || !strings.Contains(field(c, "detail"), "--issuer") || r.Code != 2 {
		t.Fatalf("identity provider %v, exit %d\n%s", c, r.Code, r)
	}
}
