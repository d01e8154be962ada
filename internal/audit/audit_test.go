package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConcurrentAppendsFromTwentyGoroutinesAreAllPresentAndParseable(t *testing.T) {
	l := &Log{Path: filepath.Join(t.TempDir(), "state", FileName), Now: time.Now}
	const goroutines, perG = 20, 50
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				// A long detail makes torn or interleaved writes likely if
				// appends were not serialised.
				err := l.Append(Entry{Profile: "p", Provider: "okta", Action: ActionRevokeUser, User: fmt.Sprintf("u%d-%d", g, i), Result: "revoked", Detail: strings.Repeat("x", 3000)})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	entries, bad, err := Read(l.Path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 || len(entries) != goroutines*perG {
		t.Fatalf("read %d entries and %d bad lines, want %d and 0", len(entries), bad, goroutines*perG)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.User] = true
	}
	if len(seen) != goroutines*perG {
		t.Fatalf("%d distinct users, want %d", len(seen), goroutines*perG)
	}
	st, err := os.Stat(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
}

// TestHelperAppender is run as a child process by the test below.
func TestHelperAppender(t *testing.T) {
	path := os.Getenv("AUDIT_HELPER_PATH")
	if path == "" {
		t.Skip("helper process only")
	}
	n, _ := strconv.Atoi(os.Getenv("AUDIT_HELPER_N"))
	l := &Log{Path: path}
	for i := 0; i < n; i++ {
		if err := l.Append(Entry{Action: ActionRevokeUser, User: fmt.Sprintf("%s-%d", os.Getenv("AUDIT_HELPER_ID"), i), Result: "revoked", Detail: strings.Repeat("y", 5000)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentAppendsFromSeveralProcessesDoNotInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	const procs, perP = 4, 100
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAppender$")
		cmd.Env = append(os.Environ(), "AUDIT_HELPER_PATH="+path, "AUDIT_HELPER_N="+strconv.Itoa(perP), "AUDIT_HELPER_ID=p"+strconv.Itoa(p))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("helper: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	entries, bad, err := Read(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 || len(entries) != procs*perP {
		t.Fatalf("read %d entries and %d bad lines, want %d and 0", len(entries), bad, procs*perP)
	}
}

func TestEntriesAreRFC3339UTCAndSecretsAreRedacted(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	at := time.Date(2026, 3, 1, 12, 30, 15, 999, time.FixedZone("CET", 3600))
	l := &Log{Path: path, Now: func() time.Time { return at }, Operator: "ops"}
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	if err := l.Append(Entry{Profile: "prod", Provider: "auth0", Action: ActionRevokeUser, User: "alice", Result: "failed", Detail: "IdP said: bad token " + jwt}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), jwt) {
		t.Fatalf("the audit line holds a token: %s", raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m["time"] != "2026-03-01T11:30:15Z" || m["operator"] != "ops" || m["action"] != "revoke_user" {
		t.Fatalf("line %s", raw)
	}
}

func TestReadFiltersByTimeAndActionAndSkipsATornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &Log{Path: path}
	for i, a := range []string{ActionRevokeUser, ActionSetExpiry, ActionRevokeUser, ActionRotateKey} {
		if err := l.Append(Entry{Time: base.Add(time.Duration(i) * time.Hour), Action: a, Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-01-01T09:00:00Z","act`)
	f.Close()
	got, bad, err := Read(path, Filter{Since: base.Add(90 * time.Minute), Action: ActionRevokeUser})
	if err != nil {
		t.Fatal(err)
	}
	if bad != 1 || len(got) != 1 || !got[0].Time.Equal(base.Add(2*time.Hour)) {
		t.Fatalf("got %+v, bad %d", got, bad)
	}
	none, _, err := Read(filepath.Join(t.TempDir(), "missing.log"), Filter{})
	if err != nil || len(none) != 0 {
		t.Fatalf("a missing log is empty: %v %v", none, err)
	}
}

func TestAnAppendAfterATornWriteStartsOnANewLine(t *testing.T) {
	l := &Log{Path: filepath.Join(t.TempDir(), FileName), Now: time.Now}
	if err := l.Append(Entry{Profile: "p", Provider: "okta", Action: ActionRevokeUser, User: "alice", Result: "revoked"}); err != nil {
		t.Fatal(err)
	}
	// A crash mid-write leaves half a line without its newline.
	f, _ := os.OpenFile(l.Path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-04-01T12:00:00Z","profile":"p","action":"revoke_user","user":"bo`)
	f.Close()
	if err := l.Append(Entry{Profile: "p", Provider: "okta", Action: ActionRevokeUser, User: "carol", Result: "revoked"}); err != nil {
		t.Fatal(err)
	}
	entries, bad, err := Read(l.Path, Filter{})
	if err != nil || bad != 1 || len(entries) != 2 || entries[1].User != "carol" {
		t.Fatalf("entries %+v, bad %d, err %v; want alice and carol, and the torn line counted", entries, bad, err)
	}
}

func TestAReaderSkipsAndCountsOverLongAndUnreadableLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	good := func(u string) string {
		return fmt.Sprintf(`{"time":"2026-04-01T12:00:00Z","profile":"p","provider":"okta","action":"revoke_user","user":%q,"result":"revoked"}`, u)
	}
	content := good("alice") + "\n" + strings.Repeat("x", 5<<20) + "\n" + "not json\n" + good("bob") + "\n" + `{"time":` + strings.Repeat(" ", maxLine) + "\n" + good("carol") + "\n"
	os.WriteFile(path, []byte(content), 0o600)
	entries, bad, err := Read(path, Filter{})
	if err != nil || bad != 3 || len(entries) != 3 || entries[2].User != "carol" {
		t.Fatalf("entries %d, bad %d, err %v; want alice, bob and carol read past 3 bad lines", len(entries), bad, err)
	}
	entries, _, _ = Read(path, Filter{User: "bob"})
	if len(entries) != 1 || entries[0].User != "bob" {
		t.Fatalf("--user bob: %+v", entries)
	}
	entries, _, _ = Read(path, Filter{Result: "failed"})
	if len(entries) != 0 {
		t.Fatalf("--result failed: %+v", entries)
	}
}
