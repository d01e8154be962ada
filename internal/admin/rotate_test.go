package admin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

type fakeRotator struct {
	tr      *trace
	err     error
	retired int
}

func (f *fakeRotator) Name() string { return "fake" }
func (f *fakeRotator) PlanRotate(_ context.Context, use provider.KeyUse, _ provider.RotateOptions) (*provider.RotatePlan, error) {
	f.tr.add("plan")
	return &provider.RotatePlan{Use: use}, nil
}
func (f *fakeRotator) Rotate(context.Context, *provider.RotatePlan) (*provider.RotateResult, error) {
	f.tr.add("rotate")
	if f.err != nil {
		return nil, f.err
	}
	return &provider.RotateResult{NewKID: "new-1"}, nil
}

type fakeRetirer struct{ *fakeRotator }

func (f fakeRetirer) RetireKeys(context.Context, *provider.RotatePlan, *provider.RotateResult) (*provider.RotateResult, error) {
	f.tr.add("retire")
	f.retired++
	return &provider.RotateResult{Retired: []string{"old-0"}}, nil
}

func TestRotateRecordsTheRotationThenRetiresAfterTheWait(t *testing.T) {
	g, log, tr, _ := setup(nil)
	base := &fakeRotator{tr: tr}
	var slept []time.Duration
	u := &Rotate{Guard: g, Rotator: fakeRetirer{base}, Profile: "prod", Use: provider.KeySigning,
		Options: provider.RotateOptions{RetireOldAfter: 24 * time.Hour},
		Sleep:   func(_ context.Context, d time.Duration) error { tr.add("sleep"); slept = append(slept, d); return nil }}
	o, err := u.Run(context.Background())
	if err != nil || o.Rotated == nil || len(log.entries) != 1 || log.entries[0].Result != "rotated" {
		t.Fatalf("err = %v, entries %+v", err, log.entries)
	}
	if err := u.RetireOld(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got, want := tr.String(), "open check plan confirm:Rotate the signing key at fake (profile prod)? rotate append sleep retire append"; got != want {
		t.Fatalf("steps = %q\nwant    %q", got, want)
	}
	if len(slept) != 1 || slept[0] != 24*time.Hour || log.entries[1].Result != "retired" || log.entries[1].Detail != "signing key: retire previous keys old-0" {
		t.Fatalf("slept %v, entries %+v", slept, log.entries)
	}
}

func TestRotateInterruptedWaitKeepsThePreviousKeys(t *testing.T) {
	g, log, tr, _ := setup(nil)
	base := &fakeRotator{tr: tr}
	u := &Rotate{Guard: g, Rotator: fakeRetirer{base}, Use: provider.KeySigning,
		Options: provider.RotateOptions{RetireOldAfter: time.Hour},
		Sleep:   func(context.Context, time.Duration) error { return context.Canceled }}
	o, err := u.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = u.RetireOld(context.Background(), o)
	if errs.KindOf(err) != errs.KindInterrupted || base.retired != 0 || len(log.entries) != 1 {
		t.Fatalf("err = %v, retired %d, entries %+v", err, base.retired, log.entries)
	}
}

func TestRotateRefusesRetiringWhereTheIdPCannotBeforeAnything(t *testing.T) {
	g, log, tr, _ := setup(nil)
	u := &Rotate{Guard: g, Rotator: &fakeRotator{tr: tr}, Use: provider.KeySigning,
		Options: provider.RotateOptions{RetireOldAfter: time.Hour}}
	// The plan is read (nothing changes); no confirmation is asked and
	// nothing is rotated or recorded.
	_, err := u.Run(context.Background())
	if errs.KindOf(err) != errs.KindUnsupported || strings.Contains(tr.String(), "confirm") || strings.Contains(tr.String(), "rotate") || len(log.entries) != 0 {
		t.Fatalf("err = %v, steps %q, entries %+v", err, tr, log.entries)
	}
}

// An IdP that cannot rotate this key at all says so in its own words,
// not with advice about retiring.
func TestAVendorThatCannotRotateSpeaksBeforeTheRetirementCheck(t *testing.T) {
	g, _, tr, _ := setup(nil)
	u := &Rotate{Guard: g, Rotator: &cannotRotate{fakeRotator{tr: tr}}, Use: provider.KeyEncryption,
		Options: provider.RotateOptions{RetireOldAfter: time.Hour}}
	_, err := u.Run(context.Background())
	if errs.KindOf(err) != errs.KindUnsupported || !strings.Contains(err.Error(), "the vendor's own alternative") || strings.Contains(err.Error(), "retire") {
		t.Fatalf("err = %v", err)
	}
}

type cannotRotate struct{ fakeRotator }

func (c *cannotRotate) PlanRotate(context.Context, provider.KeyUse, provider.RotateOptions) (*provider.RotatePlan, error) {
	return nil, provider.Unsupported("fake", "rotating the encryption key", "the vendor's own alternative")
}

func TestAFailedRotationIsRecorded(t *testing.T) {
	g, log, tr, _ := setup(nil)
	u := &Rotate{Guard: g, Rotator: &fakeRotator{tr: tr, err: errors.New("403 forbidden")}, Use: provider.KeyEncryption}
	o, err := u.Run(context.Background())
	if err == nil || o.Rotated != nil || len(log.entries) != 1 || log.entries[0].Result != "failed" || log.entries[0].Detail != "encryption key: 403 forbidden" {
		t.Fatalf("err = %v, entries %+v", err, log.entries)
	}
}
