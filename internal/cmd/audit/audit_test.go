package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	auditlog "github.com/idpctl/idpctl/internal/audit"
	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/iostreams"
)

func seeded(t *testing.T) (string, time.Time) {
	path := filepath.Join(t.TempDir(), auditlog.FileName)
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	l := &auditlog.Log{Path: path}
	for _, e := range []auditlog.Entry{
		{Time: now.Add(-48 * time.Hour), Profile: "prod", Provider: "okta", Action: auditlog.ActionRevokeUser, User: "old", Result: "revoked"},
		{Time: now.Add(-2 * time.Hour), Profile: "prod", Provider: "okta", Action: auditlog.ActionRevokeUser, User: "alice", Client: "payroll", Result: "failed", Detail: "HTTP 500"},
		{Time: now.Add(-1 * time.Hour), Profile: "prod", Provider: "okta", Action: auditlog.ActionSetExpiry, App: "payroll", Result: "applied", Detail: "access token 1h -> 15m"},
	} {
		if err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	return path, now
}

func run(t *testing.T, path string, now time.Time, o AuditOptions) (string, error) {
	ios, _, out, _ := iostreams.Test()
	o.IO, o.Now = ios, func() time.Time { return now }
	o.Path = func() (string, error) { return path, nil }
	if o.Output == "" {
		o.Output = "table"
	}
	err := auditRun(context.Background(), &o)
	return out.String(), err
}

func TestTheTableListsWhatWasDoneToWhom(t *testing.T) {
	path, now := seeded(t)
	out, err := run(t, path, now, AuditOptions{Since: "1d"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "old") || !strings.Contains(out, "alice (client payroll)") || !strings.Contains(out, "app payroll") || !strings.Contains(out, "access token 1h -> 15m") {
		t.Fatalf("table:\n%s", out)
	}
}

func TestJSONIsOneObjectPerLineForJq(t *testing.T) {
	path, now := seeded(t)
	out, err := run(t, path, now, AuditOptions{Action: auditlog.ActionRevokeUser, Output: "json"})
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	var users []string
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		users = append(users, e["user"].(string))
		if _, err := time.Parse(time.RFC3339, e["time"].(string)); err != nil || !strings.HasSuffix(e["time"].(string), "Z") {
			t.Fatalf("time %v is not RFC 3339 UTC", e["time"])
		}
	}
	if strings.Join(users, ",") != "old,alice" {
		t.Fatalf("users %v", users)
	}
}

func TestBadFiltersAreUsageErrors(t *testing.T) {
	path, now := seeded(t)
	for _, o := range []AuditOptions{{Since: "yesterday"}, {Action: "delete_everything"}, {Output: "yaml"}} {
		if _, err := run(t, path, now, o); cli.ExitCode(err) != cli.ExitUsage {
			t.Errorf("%+v: %v", o, err)
		}
	}
	out, err := run(t, filepath.Join(t.TempDir(), "none.log"), now, AuditOptions{})
	if err != nil || out != "" {
		t.Fatalf("an absent log: %q, %v", out, err)
	}
}

func TestFiltersByUserResultAndASinceDateAndShowsTheZone(t *testing.T) {
	path, now := seeded(t)
	out, err := run(t, path, now, AuditOptions{User: "alice", Result: "failed", Output: "text"})
	if err != nil || !strings.Contains(out, "alice (client payroll)") || strings.Contains(out, "old") || strings.Contains(out, "app payroll") {
		t.Fatalf("--user alice --result failed:\n%s (%v)", out, err)
	}
	// The time carries its offset, whatever the local zone.
	if !regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (Z|[+-]\d\d:\d\d)`).MatchString(out) {
		t.Fatalf("no zone in the time:\n%s", out)
	}
	for since, want := range map[string]int{
		"2026-03-31T00:00:00Z": 2, // alice and the expiry change; not old (03-30)
		"2026-03-29":           3,
		"2026-04-01T10:30:00Z": 1,
		"90m":                  1,
	} {
		out, err := run(t, path, now, AuditOptions{Since: since, Output: "json"})
		if err != nil || strings.Count(out, "\n") != want {
			t.Errorf("--since %s: %d entries, want %d (%v)", since, strings.Count(out, "\n"), want, err)
		}
	}
	if _, err := run(t, path, now, AuditOptions{Since: "31/03/2026"}); cli.ExitCode(err) != cli.ExitUsage {
		t.Fatalf("a date in another format: %v", err)
	}
}
