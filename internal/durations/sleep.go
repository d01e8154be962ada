package durations

import (
	"context"
	"time"
)

// Sleep waits d, or less if ctx ends first, and then says why it stopped:
// nil after the full wait, ctx's error otherwise. Every wait of idpctl
// (retries, rate-limit pauses, key-publication polls) goes through it or
// through an injected replacement in tests.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
