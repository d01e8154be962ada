package admin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider"
)

type fakeExpiry struct {
	tr       *trace
	applyErr error
	holds    time.Duration
}

func (f *fakeExpiry) Name() string { return "fake" }
func (f *fakeExpiry) PlanExpiry(_ context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	f.tr.add("plan")
	p := &provider.ExpiryPlan{}
	p.Before.AccessToken.Value = time.Hour
	p.After.AccessToken.Value = *ch.AccessToken
	return p, nil
}
func (f *fakeExpiry) ApplyExpiry(context.Context, *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	f.tr.add("apply")
	if f.applyErr != nil {
		return nil, f.applyErr
	}
	l := &provider.Lifetimes{}
	l.AccessToken.Value = f.holds
	return l, nil
}

func newSetExpiry(g *Guard, m *fakeExpiry) *SetExpiry {
	d := 15 * time.Minute
	return &SetExpiry{
		Guard: g, Manager: m, Profile: "prod", App: "payroll",
		Change: provider.LifetimeChange{AccessToken: &d},
		Diff: func(b, a *provider.Lifetimes) (int, string) {
			if b.AccessToken.Value == a.AccessToken.Value {
				return 0, ""
			}
			return 1, "access token 1h -> 15m"
		},
		Mismatch: func(_ provider.LifetimeChange, planned, got *provider.Lifetimes) string {
			if planned.AccessToken.Value != got.AccessToken.Value {
				return "access token is " + got.AccessToken.Value.String()
			}
			return ""
		},
	}
}

func TestSetExpiryRecordsWhatTheIdPHolds(t *testing.T) {
	for _, tc := range []struct {
		name           string
		holds          time.Duration
		applyErr       error
		result, detail string
	}{
		{"applied", 15 * time.Minute, nil, "applied", "access token 1h -> 15m"},
		{"mismatch", time.Hour, nil, "mismatch", "access token 1h -> 15m; read back: access token is 1h0m0s"},
		{"failed", 0, errors.New("409 conflict"), "failed", "access token 1h -> 15m: 409 conflict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, log, tr, _ := setup(nil)
			m := &fakeExpiry{tr: tr, holds: tc.holds, applyErr: tc.applyErr}
			o, err := newSetExpiry(g, m).Run(context.Background())
			if (err != nil) != (tc.applyErr != nil) || o.Applied != (tc.applyErr == nil) {
				t.Fatalf("err = %v, applied %v", err, o.Applied)
			}
			if len(log.entries) != 1 || log.entries[0].Result != tc.result || log.entries[0].Detail != tc.detail ||
				log.entries[0].App != "payroll" || log.entries[0].Profile != "prod" {
				t.Fatalf("entries = %+v", log.entries)
			}
		})
	}
}

func TestSetExpiryWithNothingToChangeAsksNothing(t *testing.T) {
	g, log, tr, _ := setup(nil)
	m := &fakeExpiry{tr: tr}
	u := newSetExpiry(g, m)
	d := time.Hour
	u.Change.AccessToken = &d
	o, err := u.Run(context.Background())
	if err != nil || o.Applied || o.Changes != 0 || len(log.entries) != 0 {
		t.Fatalf("err = %v, outcome %+v, entries %v", err, o, log.entries)
	}
	if got := tr.String(); got != "open check plan" {
		t.Fatalf("steps = %q", got)
	}
}
