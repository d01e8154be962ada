package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

func TestEveryErrorKindHasItsDocumentedExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{errs.New(errs.KindUsage, "bad flag"), 2},
		{fmt.Errorf("context: %w", errs.New(errs.KindLoginRequired, "invalid_grant")), 3},
		{errs.New(errs.KindRefused, "invalid_client"), 4},
		{errs.New(errs.KindNetwork, "timeout"), 5},
		{errs.New(errs.KindStore, "no keychain"), 6},
		{errs.New(errs.KindUnsupported, "no such API"), 7},
		{errs.New(errs.KindPartial, "3 of 10 failed"), 8},
		{errs.New(errs.KindInterrupted, "ctrl-c"), 130},
		{fmt.Errorf("waiting: %w", context.Canceled), 130},
		{errors.New(`unknown flag: --bogus`), 2},
		{errors.New(`unknown command "nope" for "idpctl"`), 2},
		{errors.New(`accepts at most 1 arg(s), received 2`), 2},
	}
	for _, tc := range cases {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestTheDocumentedTableCoversEveryCode(t *testing.T) {
	seen := map[int]bool{}
	for _, e := range ExitCodes {
		seen[e.Code] = true
	}
	for _, code := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 130} {
		if !seen[code] {
			t.Errorf("exit code %d is not documented in ExitCodes", code)
		}
	}
}
