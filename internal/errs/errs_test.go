package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOfFindsTheOutermostKind(t *testing.T) {
	inner := New(KindNetwork, "dial: %w", errors.New("refused"))
	outer := fmt.Errorf("fetching discovery: %w", inner)
	if got := KindOf(outer); got != KindNetwork {
		t.Fatalf("KindOf = %v, want network", got)
	}
	reclassified := Wrap(KindLoginRequired, outer)
	if got := KindOf(reclassified); got != KindLoginRequired {
		t.Fatalf("KindOf after Wrap = %v, want login required", got)
	}
	if reclassified.Error() != outer.Error() {
		t.Fatalf("Wrap changed the message: %q", reclassified.Error())
	}
}

func TestAnUnclassifiedErrorIsUnknown(t *testing.T) {
	if got := KindOf(errors.New("x")); got != KindUnknown {
		t.Fatalf("KindOf = %v", got)
	}
	if Wrap(KindUsage, nil) != nil {
		t.Fatal("Wrap(nil) must stay nil")
	}
}
