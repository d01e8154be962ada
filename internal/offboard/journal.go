package offboard

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/idpctl/idpctl/internal/atomicfile"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// JournalDir is the journals' folder inside the state directory.
const JournalDir = "journals"

// journalVersion 2 records the IdP's identity; a version 1 journal
// cannot prove it was made against the IdP the profile names now.
const journalVersion = 2

// IdP identifies the identity provider a run revokes at: what a profile
// edit can change while its name, the provider and the list stay the same.
// A journal made at one IdP must not mark users done at another.
type IdP struct {
	Provider string `json:"provider"`
	Issuer   string `json:"issuer,omitempty"`
	AdminURL string `json:"admin_url,omitempty"`
	// Where are the settings that pick the tenant inside the IdP: realm,
	// tenant, org, domain, host, authorization server, token URL...
	Where map[string]string `json:"where,omitempty"`
}

// notIdentity are admin settings that choose how to authenticate or tune
// calls, not which IdP or tenant is addressed; every other setting is
// part of the identity, so that a setting added later errs on the side of
// refusing a resume.
var notIdentity = map[string]bool{
	"auth": true, "user": true, "client_id": true, "client_auth": true, "scope": true,
	"ssh_user": true, "ssh_auth": true, "ssh_timeout": true, "ssh_known_hosts": true,
	"key_set": true, "key_alg": true, "api": true, "imp_nodes": true, "axl_version": true,
}

// NewIdP builds the identity from a profile's provider, issuer and admin
// settings ("url" is the admin base URL).
func NewIdP(provider, issuer string, admin map[string]string) IdP {
	id := IdP{Provider: provider, Issuer: normURL(issuer), Where: map[string]string{}}
	for k, v := range admin {
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch {
		case v == "" || notIdentity[k]:
		case k == "url":
			id.AdminURL = normURL(v)
		default:
			id.Where[k] = v
		}
	}
	if len(id.Where) == 0 {
		id.Where = nil
	}
	return id
}

func normURL(s string) string { return strings.TrimRight(strings.TrimSpace(s), "/") }

// differences lists how other differs from id, for the refusal.
func (id IdP) differences(other IdP) []string {
	var out []string
	cmp := func(what, was, now string) {
		if was != now {
			out = append(out, fmt.Sprintf("%s was %s, is now %s", what, orNone(was), orNone(now)))
		}
	}
	cmp("the provider", id.Provider, other.Provider)
	cmp("the issuer", id.Issuer, other.Issuer)
	cmp("the admin URL", id.AdminURL, other.AdminURL)
	keys := map[string]bool{}
	for k := range id.Where {
		keys[k] = true
	}
	for k := range other.Where {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		cmp("admin."+k, id.Where[k], other.Where[k])
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// JournalKey identifies a run: the same provider, profile, client, method
// and input bytes make the same journal, so --resume finds it and a
// changed input never inherits another list's progress.
type JournalKey struct {
	Provider, Profile, Client, Method string
	// IncludeAppRoles is --include-app-roles: a run that also removes
	// app-role grants is another run than one that keeps them.
	IncludeAppRoles bool
	// Input is the users file's content (or the users, one per line).
	Input []byte
	// IdP is where the run revokes. It is recorded in the journal, not
	// hashed into the key, so that a resume after the profile was pointed
	// elsewhere finds the journal and refuses, saying what changed.
	IdP IdP
}

// Hash is the key as hex SHA-256.
func (k JournalKey) Hash() string {
	h := sha256.New()
	for _, s := range []string{k.Provider, k.Profile, k.Client, k.Method} {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	if k.IncludeAppRoles {
		// Only when set, so keys of runs without it keep their hash.
		fmt.Fprint(h, "include-app-roles\n")
	}
	h.Write(k.Input)
	return hex.EncodeToString(h.Sum(nil))
}

// JournalMode says what to do with an existing journal.
type JournalMode int

const (
	// JournalNew refuses when an unfinished journal of the same input exists.
	JournalNew JournalMode = iota
	// JournalResume continues an existing journal and refuses when none exists.
	JournalResume
	// JournalRestart discards an existing journal.
	JournalRestart
)

// journalHeader is the journal's first line.
type journalHeader struct {
	Journal  int       `json:"journal"`
	Key      string    `json:"key"`
	Provider string    `json:"provider"`
	Profile  string    `json:"profile"`
	Client   string    `json:"client,omitempty"`
	Method   string    `json:"method,omitempty"`
	Input    string    `json:"input,omitempty"`
	Users    int       `json:"users"`
	Started  time.Time `json:"started"`
	IdP      IdP       `json:"idp"`
}

// Journal records each user's final result as it completes, one JSON line
// synced to disk per user, so that a run stopped by Ctrl-C, a crash or a
// lost connection can be resumed without revoking anyone twice or
// skipping anyone. It is safe for concurrent use; across processes, one
// run at a time holds it.
type Journal struct {
	Path string

	mu     sync.Mutex
	f      *os.File
	lock   *flock.Flock
	header journalHeader
	last   map[string]Result
}

// JournalPath is where the journal of a key lives.
func JournalPath(stateDir string, key JournalKey) string {
	return filepath.Join(stateDir, JournalDir, key.Hash()[:32]+".jsonl")
}

// OpenJournal opens the journal of key under stateDir. input names the
// input for messages; users is the run's list.
func OpenJournal(stateDir string, key JournalKey, mode JournalMode, input string, users int, now time.Time) (*Journal, error) {
	path := JournalPath(stateDir, key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the journal directory: %w", err)
	}
	lk := flock.New(path+".lock", flock.SetPermissions(0o600), flock.SetFlag(os.O_CREATE|os.O_RDWR|atomicfile.NoFollow))
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("locking the journal: %w", err)
	}
	if !ok {
		return nil, errs.New(errs.KindUsage, "another idpctl run is working on this list for profile %q right now (journal %s)", key.Profile, path)
	}
	j := &Journal{Path: path, lock: lk, last: map[string]Result{}}
	if err := j.open(key, mode, input, users, now); err != nil {
		_ = lk.Unlock()
		return nil, err
	}
	return j, nil
}

func (j *Journal) open(key JournalKey, mode JournalMode, input string, users int, now time.Time) error {
	_, statErr := os.Stat(j.Path)
	exists := statErr == nil
	switch {
	case exists && mode == JournalRestart:
		if err := os.Remove(j.Path); err != nil {
			return fmt.Errorf("discarding the old journal: %w", err)
		}
		exists = false
	case exists && mode == JournalNew:
		if err := j.load(key); err != nil {
			return err
		}
		done, missing, failed := j.counts()
		return errs.New(errs.KindUsage, "an unfinished run of this list exists (started %s, %d of %d users done, %d not found at the IdP, %d failed): pass --resume to continue it (failed users are retried, done ones skipped; with --allow-missing the users not found are accepted as they are), or --restart to start over",
			j.header.Started.Local().Format(time.DateTime), done, j.header.Users, missing, failed)
	case !exists && mode == JournalResume:
		return errs.New(errs.KindUsage, "nothing to resume: no unfinished run of %s for profile %q (a run that finished leaves no journal, and an edited file counts as a new list); run without --resume", orInput(input), key.Profile)
	}
	if exists {
		if err := j.load(key); err != nil {
			return err
		}
		if j.header.Users != users {
			return errs.New(errs.KindUsage, "the journal %s was made for %d users, this input has %d: start over with --restart", j.Path, j.header.Users, users)
		}
	}
	f, err := os.OpenFile(j.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|atomicfile.NoFollow, 0o600)
	if err != nil {
		return fmt.Errorf("opening the journal: %w", err)
	}
	j.f = f
	if !exists {
		j.header = journalHeader{Journal: journalVersion, Key: key.Hash(), Provider: key.Provider, Profile: key.Profile, Client: key.Client, Method: key.Method, Input: input, Users: users, Started: now.UTC(), IdP: key.IdP}
		if err := j.writeLine(j.header); err != nil {
			return err
		}
	}
	return nil
}

func orInput(s string) string {
	if s == "" {
		return "this list"
	}
	return s
}

// load reads an existing journal. A torn last line (a crash mid-write)
// is ignored: that user's result was never confirmed, so it runs again.
func (j *Journal) load(key JournalKey) error {
	raw, err := os.ReadFile(j.Path)
	if err != nil {
		return fmt.Errorf("reading the journal: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if first {
			first = false
			if err := json.Unmarshal(line, &j.header); err != nil || j.header.Journal == 0 {
				return errs.New(errs.KindUsage, "the journal %s is unreadable: start over with --restart", j.Path)
			}
			if j.header.Journal != journalVersion {
				return errs.New(errs.KindUsage, "the journal %s was written by another idpctl version: start over with --restart", j.Path)
			}
			if j.header.Key != key.Hash() {
				return errs.New(errs.KindUsage, "the journal %s belongs to another input, provider or profile: start over with --restart", j.Path)
			}
			if d := j.header.IdP.differences(key.IdP); len(d) > 0 {
				return errs.New(errs.KindUsage, "the unfinished run in %s was made against another IdP than profile %q names now (%s): the users it records as done were revoked there, not here. Nothing was sent. Point the profile back to finish that run, or run with --restart to revoke the whole list at this IdP", j.Path, key.Profile, strings.Join(d, "; "))
			}
			continue
		}
		var r Result
		if err := json.Unmarshal(line, &r); err != nil || r.User == "" {
			continue
		}
		j.last[r.User] = r
	}
	if first {
		return errs.New(errs.KindUsage, "the journal %s is empty: start over with --restart", j.Path)
	}
	return sc.Err()
}

func (j *Journal) counts() (done, missing, failed int) {
	for _, r := range j.last {
		switch {
		case r.Outcome == provider.OutcomeUserNotFound:
			missing++
		case r.Done():
			done++
		default:
			failed++
		}
	}
	return done, missing, failed
}

// Final returns the user's recorded result when it needs no repeat.
func (j *Journal) Final(user string) (Result, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r, ok := j.last[user]
	return r, ok && r.Done()
}

// Last returns the user's last recorded result, final or not.
func (j *Journal) Last(user string) (Result, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r, ok := j.last[user]
	return r, ok
}

// Results returns the last recorded result of every user.
func (j *Journal) Results() map[string]Result {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make(map[string]Result, len(j.last))
	for k, v := range j.last {
		out[k] = v
	}
	return out
}

// Record appends a user's result and syncs it to disk before returning:
// once Record returns, a resume will not repeat that user.
func (j *Journal) Record(r Result) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.writeLine(r); err != nil {
		return err
	}
	j.last[r.User] = r
	return nil
}

func (j *Journal) writeLine(v any) error {
	if j.f == nil {
		return errors.New("the journal is closed")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding a journal record: %w", err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("syncing the journal: %w", err)
	}
	return nil
}

// Close releases the journal, keeping it for a later --resume.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var err error
	if j.f != nil {
		err = j.f.Close()
		j.f = nil
	}
	if j.lock != nil {
		_ = j.lock.Unlock()
		j.lock = nil
	}
	return err
}

// Remove closes and deletes the journal of a run that finished: nothing
// is left to resume, and the audit log keeps the record.
func (j *Journal) Remove() error {
	if err := j.Close(); err != nil {
		return err
	}
	if err := os.Remove(j.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the finished journal: %w", err)
	}
	// The empty .lock file stays on purpose: unlinking a flock file lets a
	// process still waiting on the old inode and one opening a new file
	// both believe they hold the lock.
	return nil
}

// Done reports whether a result is final: the IdP acted, accepted, had
// nothing to do, or does not know the user. Failures are repeated; a user
// not found is not asked again, and a resume with --allow-missing accepts
// the answer already given.
func (r Result) Done() bool {
	switch r.Outcome {
	case provider.OutcomeRevoked, provider.OutcomeAccepted, provider.OutcomeNothingToRevoke, provider.OutcomeUserNotFound:
		return true
	}
	return false
}
