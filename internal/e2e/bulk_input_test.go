package e2e

// What a bulk revocation refuses before it sends anything: a users file
// that cannot be read exactly, one too large to be a list of leavers, and
// identifiers that hold invisible characters.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider/hydra/hydrafake"
	"github.com/idpctl/idpctl/internal/provider/keycloak/keycloakfake"
)

func hydraBulkEnv(t *testing.T) (*hydrafake.Server, *Env) {
	t.Helper()
	f := hydrafake.New(t)
	t.Cleanup(f.Close)
	noViolations(t, "hydra", f.Errors)
	f.AddClient("wiki", nil)
	return f, adminEnv(t, "hydra", f.URL, "", viaFile, "url="+f.URL)
}

func TestBulkRevocationRefusesACSVQuoteThatNeverCloses(t *testing.T) {
	t.Parallel()
	f, e := hydraBulkEnv(t)
	var b strings.Builder
	b.WriteString("email,name\nalice@example.com,A\n\"bob@example.com,B\n")
	for i := 0; i < 51; i++ {
		fmt.Fprintf(&b, "user%02d@example.com,U\n", i)
	}
	file := e.WriteFile(t, "leavers.csv", b.String(), false)
	for _, extra := range [][]string{{"--dry-run"}, {"--yes", "-o", "json"}} {
		r := run(t, e, "", append([]string{"token", "revoke", "--users-file", file}, extra...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, "line 3 never closes") || r.Stdout != "" {
			t.Fatalf("%v: want exit 2 naming line 3 and no plan or results\n%s", extra, r)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests reached Hydra", n)
	}
}

func TestBulkRevocationRefusesAnEndlessOrHugeUsersFileFast(t *testing.T) {
	t.Parallel()
	f, e := hydraBulkEnv(t)
	huge := filepath.Join(t.TempDir(), "huge.txt")
	fh, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := fh.Truncate(300 << 20); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	fh.Close()
	for _, path := range []string{"/dev/zero", huge} {
		r, took := timed(t, e, "token", "revoke", "--users-file", path, "--yes")
		if r.Code != 2 || !strings.Contains(r.Stderr, "larger than 32 MiB") {
			t.Fatalf("%s: want exit 2 saying the file is too large\n%s", path, r)
		}
		t.Logf("%s refused in %s", path, took.Round(time.Millisecond))
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests reached Hydra", n)
	}
}

func TestRevokeRefusesAUserWithInvisibleCharacters(t *testing.T) {
	t.Parallel()
	f, e := hydraBulkEnv(t)
	for _, u := range []string{"alice\u200b", "\u202eecila", "bob\u2066x\u2069"} {
		r := run(t, e, "", "token", "revoke", "--user", u, "--yes")
		if r.Code != 2 || !strings.Contains(r.Stderr, "invisible formatting character") {
			t.Fatalf("%q: want exit 2\n%s", u, r)
		}
	}
	file := e.WriteFile(t, "leavers.txt", "alice\nbob\u200b\n", false)
	r := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json")
	if r.Code != 8 || !strings.Contains(r.Stderr, "line 2") || strings.Contains(r.Stdout, "bob") {
		t.Fatalf("a users file: want exit 8 naming line 2, bob not run\n%s", r)
	}
	for _, req := range f.Requests() {
		if strings.Contains(req.Query.Get("subject"), "bob") || strings.Contains(req.Query.Get("subject"), "ecila") {
			t.Fatalf("a refused user reached Hydra: %+v", req)
		}
	}
}

func TestBulkResumeRefusesAProfileNowPointingAtAnotherIdP(t *testing.T) {
	t.Parallel()
	f, e := hydraBulkEnv(t)
	users := []string{"alice", "bob", "carol"}
	for _, u := range users {
		f.AddConsent(u, "wiki")
	}
	file := e.WriteFile(t, "leavers.txt", strings.Join(users, "\n")+"\n", false)
	f.Fail(http.MethodDelete, "/admin/oauth2/auth/sessions/consent", hydrafake.ServerError, 1)
	r := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "--parallel", "1", "-o", "json")
	if r.Code != 8 {
		t.Fatalf("want exit 8 with one user failed, leaving the journal\n%s", r)
	}

	// The profile is edited to name another Hydra, a staging copy say.
	other := hydrafake.New(t)
	t.Cleanup(other.Close)
	mustRun(t, e, "", "profile", "add", e.Get("IDPCTL_PROFILE"), "--overwrite", "--provider", "hydra", "--issuer", other.URL, "--admin", "url="+other.URL)

	resumed := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json", "--resume")
	if resumed.Code != 2 || !strings.Contains(resumed.Stderr, "another IdP") || !strings.Contains(resumed.Stderr, "admin URL was "+f.URL) || resumed.Stdout != "" {
		t.Fatalf("want exit 2 naming the changed admin URL, and no result reported\n%s", resumed)
	}
	if n := len(other.Requests()); n != 0 {
		t.Fatalf("%d requests reached the other Hydra", n)
	}
	restarted := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json", "--restart")
	if restarted.Code != 0 || len(jsonLines(t, restarted.Stdout)) != len(users) {
		t.Fatalf("--restart runs the whole list at the new IdP\n%s", restarted)
	}
	for _, l := range jsonLines(t, restarted.Stdout) {
		if field(l, "resumed") == "true" {
			t.Errorf("%s carried over from the other IdP", field(l, "user"))
		}
	}
}

func TestADryRunNeverOpensTheKeychain(t *testing.T) {
	t.Parallel()
	f := keycloakfake.New(t, "acme")
	t.Cleanup(f.Close)
	noViolations(t, "keycloak", f.Errors)
	// The admin secret would be in the keychain; the keychain cannot be
	// reached (no session bus), so any attempt to open it fails with exit 6.
	e := adminEnv(t, "keycloak", f.URL+"/realms/acme", "", viaFile, "client_id="+f.AdminClientID)
	e.Unset("IDPCTL_ADMIN_SECRET_FILE").Unset("IDPCTL_ADMIN_SECRET").Set("IDPCTL_STORE", "keychain").
		Set("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus")).Set("XDG_RUNTIME_DIR", t.TempDir())
	file := e.WriteFile(t, "leavers.txt", "alice\nbob\n", false)
	for _, args := range [][]string{
		{"token", "revoke", "--user", "alice", "--dry-run"},
		{"token", "revoke", "--users-file", file, "--dry-run", "-o", "json"},
	} {
		r := run(t, e, "", args...)
		if r.Code != 0 || strings.Contains(r.Stderr, "keychain") {
			t.Fatalf("%v: a dry run needs no credential: want exit 0 without touching the keychain\n%s", args, r)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("a dry run sent %d requests", n)
	}
	// Sending does need it, and says so.
	if r := run(t, e, "", "token", "revoke", "--user", "alice", "--yes"); r.Code != 6 || !strings.Contains(r.Stderr, "keychain") {
		t.Fatalf("a real run without a reachable keychain: want exit 6\n%s", r)
	}
}
