// Package audit implements `idpctl audit`, the reader of the admin action log.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	auditlog "github.com/idpctl/idpctl/internal/audit"
	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/ui"
	"github.com/idpctl/idpctl/internal/xdg"
)

// AuditOptions are the inputs of audit.
type AuditOptions struct {
	IO *iostreams.IOStreams
	// Path finds the log.
	Path func() (string, error)
	Now  func() time.Time

	Since  string
	Action string
	User   string
	Result string
	Output string
}

// NewCmdAudit builds the command.
func NewCmdAudit(f *cli.Factory, runF func(context.Context, *AuditOptions) error) *cobra.Command {
	opts := &AuditOptions{IO: f.IOStreams, Now: f.Now, Path: func() (string, error) {
		dir, err := xdg.StateDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(dir, auditlog.FileName), nil
	}}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the log of admin actions: revocations, lifetime changes, key rotations",
		Long: `Every admin action idpctl takes (revoke_user, set_expiry, rotate_key) is
appended as one JSON line to audit.log in the XDG state directory
($XDG_STATE_HOME/idpctl/audit.log): the time in UTC, the operator's profile
and local account, the provider, the user, client or app acted on, the
result, the IdP's request id and a detail. Secrets are never recorded.

This command lists the log as a table with each time in the local zone and
its offset, or with -o json as the JSON lines themselves (UTC), oldest first.
--since takes a duration (24h, 7d) or a date or time (2026-03-31,
2026-03-31T09:00, RFC 3339 with a zone); a date without a zone is local.
Lines that cannot be read (a torn write, damage) are skipped and counted.`,
		Example: `  idpctl audit --since 24h
  idpctl audit --since 2026-03-31 --user jdoe
  idpctl audit --action revoke_user --result failed -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Since, "since", "", "only actions since a duration ago (24h, 7d) or a date or time (2026-03-31, 2026-03-31T09:00, RFC 3339)")
	fl.StringVar(&opts.Action, "action", "", "only this action: "+strings.Join(auditlog.Actions, ", "))
	fl.StringVar(&opts.User, "user", "", "only actions on this user (exact match)")
	fl.StringVar(&opts.Result, "result", "", "only this result (exact match: revoked, accepted, nothing to revoke, user not found, failed, ...)")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output: text (a table) or json (JSON lines)")
	_ = cmd.RegisterFlagCompletionFunc("action", cobra.FixedCompletions(auditlog.Actions, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func auditRun(_ context.Context, opts *AuditOptions) error {
	switch opts.Output {
	case "text", "table": // "table" was the earlier name of text
	case "json":
	default:
		return errs.New(errs.KindUsage, "unknown output %q: choose text or json", opts.Output)
	}
	filter := auditlog.Filter{User: opts.User, Result: opts.Result}
	if opts.Since != "" {
		t, err := parseSince(opts.Since, opts.Now())
		if err != nil {
			return err
		}
		filter.Since = t
	}
	if opts.Action != "" {
		ok := false
		for _, a := range auditlog.Actions {
			ok = ok || a == opts.Action
		}
		if !ok {
			return errs.New(errs.KindUsage, "unknown action %q: choose one of %s", opts.Action, strings.Join(auditlog.Actions, ", "))
		}
		filter.Action = opts.Action
	}
	path, err := opts.Path()
	if err != nil {
		return err
	}
	entries, bad, err := auditlog.Read(path, filter)
	if err != nil {
		return err
	}
	errP := ui.New(opts.IO.ErrOut, opts.IO.ColorEnabledStderr())
	if bad > 0 {
		errP.Println(errP.Warning("warning: ") + unreadable(bad, path))
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	if len(entries) == 0 {
		msg := "No admin actions recorded."
		if opts.Since != "" || opts.Action != "" || opts.User != "" || opts.Result != "" {
			msg = "No admin actions match."
		}
		errP.Println(msg)
		return nil
	}
	rows := make([][]string, len(entries))
	for i, e := range entries {
		rows[i] = []string{e.Time.Local().Format(timeLayout), e.Profile, e.Provider, e.Action, target(e), e.Result, dash(e.RequestID), dash(e.Detail)}
	}
	ui.ForStdout(opts.IO).Table([]string{"TIME", "PROFILE", "PROVIDER", "ACTION", "TARGET", "RESULT", "REQUEST ID", "DETAIL"}, rows)
	return nil
}

// timeLayout shows a time with its offset: the log is read on machines
// and by people in other zones than the one that wrote it.
const timeLayout = "2006-01-02 15:04:05 Z07:00"

// sinceLayouts are the dates and times --since takes besides RFC 3339 and
// durations; without a zone they are local.
var sinceLayouts = []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// parseSince reads --since as a duration back from now, an RFC 3339 time,
// or a local date or time.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, err := durations.Parse(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range sinceLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errs.New(errs.KindUsage, "--since %q: give a duration (24h, 7d), a date (2026-03-31), a local time (2026-03-31T09:00) or an RFC 3339 time (2026-03-31T09:00:00Z)", s)
}

// target names what was acted on.
func target(e auditlog.Entry) string {
	switch {
	case e.User != "" && e.Client != "":
		return e.User + " (client " + e.Client + ")"
	case e.User != "":
		return e.User
	case e.App != "":
		return "app " + e.App
	case e.Action == auditlog.ActionRotateKey:
		return "keys"
	}
	return "-"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func unreadable(n int, path string) string {
	if n == 1 {
		return "1 unreadable line of " + path + " left out"
	}
	return fmt.Sprintf("%d unreadable lines of %s left out", n, path)
}
