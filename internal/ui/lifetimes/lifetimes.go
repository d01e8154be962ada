// Package lifetimes renders token lifetimes for `app expiry get` and `set`:
// human units for people, seconds for scripts, and where each value comes
// from, since an inherited realm default and an app setting look alike.
package lifetimes

import (
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/provider"
)

// Setting names, as rows and JSON keys show them.
const (
	AccessToken   = "access token"
	RefreshToken  = "refresh token"
	RefreshIdle   = "refresh token idle"
	ReuseInterval = "refresh token reuse interval"
	Rotation      = "refresh token rotation"
)

// Row is one setting for a table.
type Row struct {
	Setting, Value, Native, Source string
}

// fields lists the duration settings in display order.
func fields(l *provider.Lifetimes) []struct {
	name string
	lt   provider.Lifetime
} {
	return []struct {
		name string
		lt   provider.Lifetime
	}{
		{AccessToken, l.AccessToken}, {RefreshToken, l.RefreshToken},
		{RefreshIdle, l.RefreshIdle}, {ReuseInterval, l.ReuseInterval},
	}
}

// Rows lists every setting of l.
func Rows(l *provider.Lifetimes) []Row {
	var rows []Row
	for _, f := range fields(l) {
		rows = append(rows, Row{Setting: f.name, Value: Value(f.lt), Native: orDash(f.lt.Native), Source: SourceText(f.lt.Source, f.lt.From, f.lt.SetWhere)})
	}
	rows = append(rows, Row{Setting: Rotation, Value: RotationText(l.Rotation), Native: "-", Source: SourceText(l.RotationSource, "", "")})
	return rows
}

// Value is a lifetime in human units.
func Value(lt provider.Lifetime) string {
	switch {
	case lt.Unlimited:
		return "unlimited"
	case !lt.Known:
		return "unknown"
	case lt.Value == 0:
		return "not set"
	default:
		return durations.Format(lt.Value)
	}
}

// RotationText is the rotation switch in words.
func RotationText(b *bool) string {
	switch {
	case b == nil:
		return "unknown"
	case *b:
		return "on"
	default:
		return "off"
	}
}

// SourceText says where a value comes from, and where it is set when not
// through this app.
func SourceText(s provider.Source, from, setWhere string) string {
	var out string
	switch {
	case s == provider.SourceInherited && from != "":
		out = "inherited from " + from
	case s == "":
		out = string(provider.SourceUnknown)
	default:
		out = string(s)
	}
	switch {
	case setWhere == "":
	case s == provider.SourceVendor:
		// The IdP fixes the value: setWhere says why, not where
		// ("the sandbox has no idle timeout").
		out += ": " + setWhere
	default:
		out += "; set in " + setWhere
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// LifetimeJSON is a lifetime for scripts: seconds and a human string.
type LifetimeJSON struct {
	// Seconds is null when the value is unknown, unlimited or unset.
	Seconds   *int64 `json:"seconds"`
	Human     string `json:"human"`
	Unlimited bool   `json:"unlimited,omitempty"`
	Known     bool   `json:"known"`
	Native    string `json:"native,omitempty"`
	Source    string `json:"source"`
	From      string `json:"from,omitempty"`
	SetWhere  string `json:"set_where,omitempty"`
}

// LifetimesJSON is the whole model for scripts.
type LifetimesJSON struct {
	App            string       `json:"app"`
	AccessToken    LifetimeJSON `json:"access_token"`
	RefreshToken   LifetimeJSON `json:"refresh_token"`
	RefreshIdle    LifetimeJSON `json:"refresh_token_idle"`
	ReuseInterval  LifetimeJSON `json:"refresh_token_reuse_interval"`
	Rotation       *bool        `json:"refresh_token_rotation"`
	RotationSource string       `json:"refresh_token_rotation_source,omitempty"`
	Notes          []string     `json:"notes,omitempty"`
	ReadAt         string       `json:"read_at,omitempty"`
}

// LifetimeToJSON converts one lifetime.
func LifetimeToJSON(lt provider.Lifetime) LifetimeJSON {
	j := LifetimeJSON{Human: Value(lt), Unlimited: lt.Unlimited, Known: lt.Known, Native: lt.Native, Source: string(lt.Source), From: lt.From, SetWhere: lt.SetWhere}
	if j.Source == "" {
		j.Source = string(provider.SourceUnknown)
	}
	if lt.Known && !lt.Unlimited && lt.Value > 0 {
		s := durations.Seconds(lt.Value)
		j.Seconds = &s
	}
	return j
}

// ToJSON converts the model.
func ToJSON(l *provider.Lifetimes) LifetimesJSON {
	j := LifetimesJSON{
		App: l.App, AccessToken: LifetimeToJSON(l.AccessToken), RefreshToken: LifetimeToJSON(l.RefreshToken),
		RefreshIdle: LifetimeToJSON(l.RefreshIdle), ReuseInterval: LifetimeToJSON(l.ReuseInterval),
		Rotation: l.Rotation, RotationSource: string(l.RotationSource), Notes: l.Notes,
	}
	if !l.ReadAt.IsZero() {
		j.ReadAt = l.ReadAt.UTC().Format(time.RFC3339)
	}
	return j
}

// Same reports whether two lifetimes hold the same effective value.
func Same(a, b provider.Lifetime) bool {
	if a.Unlimited || b.Unlimited {
		return a.Unlimited == b.Unlimited
	}
	if a.Known != b.Known {
		return false
	}
	return a.Value.Truncate(time.Second) == b.Value.Truncate(time.Second)
}

// SameRotation compares rotation switches; nil is unknown.
func SameRotation(a, b *bool) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// Change is one changed setting of a plan.
type Change struct {
	Setting string `json:"setting"`
	Before  string `json:"before"`
	After   string `json:"after"`
}

// Diff lists the settings that differ between before and after.
func Diff(before, after *provider.Lifetimes) []Change {
	var out []Change
	bf, af := fields(before), fields(after)
	for i := range bf {
		if !Same(bf[i].lt, af[i].lt) || bf[i].lt.Source != af[i].lt.Source {
			out = append(out, Change{Setting: bf[i].name, Before: Value(bf[i].lt), After: Value(af[i].lt)})
		}
	}
	if !SameRotation(before.Rotation, after.Rotation) {
		out = append(out, Change{Setting: Rotation, Before: RotationText(before.Rotation), After: RotationText(after.Rotation)})
	}
	return out
}

// DiffText is a diff in one line, for the audit log.
func DiffText(ch []Change) string {
	parts := make([]string, len(ch))
	for i, c := range ch {
		parts[i] = c.Setting + " " + c.Before + " -> " + c.After
	}
	return strings.Join(parts, "; ")
}
