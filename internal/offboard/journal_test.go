package offboard

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

func TestResumeSkipsDoneUsersAndRetriesFailedOnes(t *testing.T) {
	dir := t.TempDir()
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	key := JournalKey{Provider: "okta", Profile: "prod", Input: []byte(strings.Join(users, "\n"))}
	j, err := OpenJournal(dir, key, JournalNew, "leavers.txt", len(users), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Result{
		{User: "alice", Outcome: provider.OutcomeRevoked},
		{User: "bob", Outcome: provider.OutcomeFailed, Error: "HTTP 500"},
		{User: "carol", Outcome: provider.OutcomeUserNotFound},
		{User: "erin", Outcome: provider.OutcomeFailed},
		{User: "erin", Outcome: provider.OutcomeAccepted}, // the last record wins
	} {
		if err := j.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	// A crash mid-write leaves a torn line; it must not hide the others.
	f, _ := os.OpenFile(j.Path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"user":"dave","res`)
	f.Close()

	j2, err := OpenJournal(dir, key, JournalResume, "leavers.txt", len(users), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	s := &scripted{fn: func(u string, _ int) (*provider.RevokeUserResult, error) {
		return &provider.RevokeUserResult{User: u, Outcome: provider.OutcomeRevoked}, nil
	}}
	sum, err := (&Engine{Revoker: s, Journal: j2, Parallel: 2, AllowMissing: true}).Run(context.Background(), users)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.calls) != 2 || s.calls["bob"] != 1 || s.calls["dave"] != 1 {
		t.Fatalf("calls %v, want bob (failed) and dave (torn record) only", s.calls)
	}
	if sum.Resumed != 3 || sum.Counts[provider.OutcomeRevoked] != 3 || sum.Counts[provider.OutcomeAccepted] != 1 || sum.Counts[provider.OutcomeUserNotFound] != 1 {
		t.Fatalf("summary %+v", sum)
	}
}

func TestTheJournalRefusesWhatItCannotContinueSafely(t *testing.T) {
	dir := t.TempDir()
	key := JournalKey{Provider: "okta", Profile: "prod", Input: []byte("alice\nbob\n")}
	other := key
	other.Input = []byte("alice\nbob\ncarol\n")

	if _, err := OpenJournal(dir, key, JournalResume, "leavers.txt", 2, time.Now()); errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "nothing to resume") {
		t.Fatalf("resume without a journal: %v", err)
	}
	j, err := OpenJournal(dir, key, JournalNew, "leavers.txt", 2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenJournal(dir, key, JournalResume, "leavers.txt", 2, time.Now()); errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "another idpctl run") {
		t.Fatalf("a second run while the first holds the journal: %v", err)
	}
	j.Record(Result{User: "alice", Outcome: provider.OutcomeRevoked})
	j.Close()

	if _, err := OpenJournal(dir, key, JournalNew, "leavers.txt", 2, time.Now()); errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "1 of 2 users done") || !strings.Contains(err.Error(), "--restart") {
		t.Fatalf("a new run over an unfinished journal: %v", err)
	}
	// An edited input is another list: nothing of the old one carries over.
	if _, err := OpenJournal(dir, other, JournalResume, "leavers.txt", 3, time.Now()); errs.KindOf(err) != errs.KindUsage {
		t.Fatalf("resume of an edited list: %v", err)
	}
	// A journal whose header names another input is refused.
	raw, _ := os.ReadFile(j.Path)
	forged := strings.Replace(string(raw), key.Hash(), other.Hash(), 1)
	os.WriteFile(j.Path, []byte(forged), 0o600)
	if _, err := OpenJournal(dir, key, JournalResume, "leavers.txt", 2, time.Now()); errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "another input") {
		t.Fatalf("mismatched header: %v", err)
	}
	// --restart discards it.
	j3, err := OpenJournal(dir, key, JournalRestart, "leavers.txt", 2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := j3.Final("alice"); ok {
		t.Fatal("a restarted journal remembers alice")
	}
	if err := j3.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(j3.Path); !os.IsNotExist(err) {
		t.Fatalf("a removed journal still exists: %v", err)
	}
}

func TestJournalKeysDifferByEveryPart(t *testing.T) {
	base := JournalKey{Provider: "okta", Profile: "prod", Client: "c", Method: "m", Input: []byte("alice\n")}
	seen := map[string]bool{base.Hash(): true}
	for _, k := range []JournalKey{
		{Provider: "auth0", Profile: "prod", Client: "c", Method: "m", Input: []byte("alice\n")},
		{Provider: "okta", Profile: "dev", Client: "c", Method: "m", Input: []byte("alice\n")},
		{Provider: "okta", Profile: "prod", Client: "", Method: "m", Input: []byte("alice\n")},
		{Provider: "okta", Profile: "prod", Client: "c", Method: "", Input: []byte("alice\n")},
		{Provider: "okta", Profile: "prod", Client: "c", Method: "m", Input: []byte("alice\nbob\n")},
		{Provider: "okta", Profile: "prodc", Client: "", Method: "m", Input: []byte("alice\n")},
	} {
		if seen[k.Hash()] {
			t.Fatalf("key %+v collides", k)
		}
		seen[k.Hash()] = true
	}
}

func TestAResumeAtAnotherIdPIsRefused(t *testing.T) {
	dir := t.TempDir()
	key := JournalKey{Provider: "keycloak", Profile: "prod", Input: []byte("alice\nbob\n"),
		IdP: NewIdP("keycloak", "https://kc.example.com/realms/corp/", map[string]string{"url": "https://kc.example.com", "realm": "corp", "client_id": "offboarding"})}
	j, err := OpenJournal(dir, key, JournalNew, "leavers.txt", 2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	j.Record(Result{User: "alice", Outcome: provider.OutcomeRevoked})
	j.Close()

	for name, change := range map[string]func(*JournalKey){
		"another admin URL": func(k *JournalKey) {
			k.IdP = NewIdP("keycloak", "https://kc.example.com/realms/corp", map[string]string{"url": "https://kc-staging.example.com", "realm": "corp"})
		},
		"another realm": func(k *JournalKey) {
			k.IdP = NewIdP("keycloak", "https://kc.example.com/realms/corp", map[string]string{"url": "https://kc.example.com", "realm": "corp-test"})
		},
		"another issuer": func(k *JournalKey) {
			k.IdP = NewIdP("keycloak", "https://other.example.com/realms/corp", map[string]string{"url": "https://kc.example.com", "realm": "corp"})
		},
	} {
		k := key
		change(&k)
		_, err := OpenJournal(dir, k, JournalResume, "leavers.txt", 2, time.Now())
		if errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "another IdP") || !strings.Contains(err.Error(), "--restart") {
			t.Fatalf("%s: err %v, want the resume refused", name, err)
		}
	}
	// The same IdP spelt with a trailing slash, and another admin
	// credential, is still the same IdP.
	same := key
	same.IdP = NewIdP("keycloak", "https://kc.example.com/realms/corp", map[string]string{"url": "https://kc.example.com/", "realm": "corp", "client_id": "other-admin"})
	j2, err := OpenJournal(dir, same, JournalResume, "leavers.txt", 2, time.Now())
	if err != nil {
		t.Fatalf("resume at the same IdP: %v", err)
	}
	defer j2.Close()
	if r, ok := j2.Final("alice"); !ok || r.Outcome != provider.OutcomeRevoked {
		t.Fatalf("alice not carried over: %+v", r)
	}
}

func TestIncludingAppRolesMakesAnotherRun(t *testing.T) {
	k := JournalKey{Provider: "oracle", Profile: "prod", Method: "grants", Input: []byte("ann\n")}
	with := k
	with.IncludeAppRoles = true
	if k.Hash() == with.Hash() {
		t.Fatal("a run removing app-role grants would resume a run that keeps them")
	}
	if k.Hash() != (JournalKey{Provider: "oracle", Profile: "prod", Method: "grants", Input: []byte("ann\n")}).Hash() {
		t.Fatal("the hash of a key without the option is not stable")
	}
}

// A run whose only trouble was a user the IdP does not know keeps its
// journal (it failed); the refusal to start it again counts that user as
// not found, not as done, and says how to accept the answer.
func TestTheRefusalToRepeatARunCountsUsersNotFound(t *testing.T) {
	dir := t.TempDir()
	users := []string{"alice", "nobody"}
	key := JournalKey{Provider: "sandbox", Profile: "p", Input: []byte(strings.Join(users, "\n"))}
	j, err := OpenJournal(dir, key, JournalNew, "leavers.txt", len(users), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Result{{User: "alice", Outcome: provider.OutcomeRevoked}, {User: "nobody", Outcome: provider.OutcomeUserNotFound}} {
		if err := j.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	_, err = OpenJournal(dir, key, JournalNew, "leavers.txt", len(users), time.Now())
	if errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "1 of 2 users done, 1 not found at the IdP, 0 failed") || !strings.Contains(err.Error(), "--allow-missing") {
		t.Fatalf("err = %v", err)
	}
}

// A call cut off by a second interrupt most likely reached the IdP: when
// the resume then finds nothing to revoke, the result says why, so the
// audit log does not read as if the user never had tokens.
func TestNothingToRevokeAfterAnAbortedCallSaysTheAbortedCallDidIt(t *testing.T) {
	dir := t.TempDir()
	users := []string{"alice", "bob"}
	key := JournalKey{Provider: "sandbox", Profile: "p", Input: []byte(strings.Join(users, "\n"))}
	j, err := OpenJournal(dir, key, JournalNew, "leavers.txt", len(users), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Result{{User: "alice", Outcome: provider.OutcomeFailed, Error: abortedInFlight}, {User: "bob", Outcome: provider.OutcomeFailed, Error: "HTTP 500"}} {
		if err := j.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	j2, err := OpenJournal(dir, key, JournalResume, "leavers.txt", len(users), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	s := &scripted{fn: func(u string, _ int) (*provider.RevokeUserResult, error) {
		return &provider.RevokeUserResult{User: u, Outcome: provider.OutcomeNothingToRevoke, Detail: "no tokens"}, nil
	}}
	if _, err := (&Engine{Revoker: s, Journal: j2, Parallel: 1}).Run(context.Background(), users); err != nil {
		t.Fatal(err)
	}
	got := j2.Results()
	if !strings.Contains(got["alice"].Detail, "aborted in flight and most likely revoked") {
		t.Errorf("alice: %q", got["alice"].Detail)
	}
	if got["bob"].Detail != "no tokens" {
		t.Errorf("bob, whose earlier call failed outright: %q", got["bob"].Detail)
	}
}
