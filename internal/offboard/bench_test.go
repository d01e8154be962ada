package offboard

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider"
)

// BenchmarkRevoke compares the engine with a plain loop of single
// revocations, one op being one user. rtt is the fake's added service
// time, standing in for a real IdP's round trip, which is what the
// engine's concurrency hides.
func BenchmarkRevoke(b *testing.B) {
	for _, rtt := range []time.Duration{0, time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%s/sequential", rtt), func(b *testing.B) {
			api := newFakeAPI(b, 0)
			api.latency = rtt
			rev := newTestRevoker(b, api.srv.URL)
			users := userIDs(b.N)
			ctx := context.Background()
			b.ResetTimer()
			for _, u := range users {
				if _, err := rev.RevokeUser(ctx, provider.RevokeUserRequest{User: u}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
		})
		b.Run(fmt.Sprintf("rtt=%s/engine-parallel-4", rtt), func(b *testing.B) {
			benchEngine(b, 0, rtt, 4)
		})
	}
}

// BenchmarkRevokeRateLimited runs the engine against a limit of 2000 calls
// per second: users/s should approach the limit, not fall far below it.
func BenchmarkRevokeRateLimited(b *testing.B) {
	benchEngine(b, 2000, 0, 8)
}

func benchEngine(b *testing.B, limit int, rtt time.Duration, parallel int) {
	api := newFakeAPI(b, limit)
	api.latency = rtt
	rev := newTestRevoker(b, api.srv.URL)
	users := userIDs(b.N)
	b.ResetTimer()
	sum, err := (&Engine{Revoker: rev, Limiter: rev.observedBy(NewLimiter(nil, nil)), Parallel: parallel}).Run(context.Background(), users)
	if err != nil {
		b.Fatal(err)
	}
	if sum.Counts[provider.OutcomeRevoked] != b.N {
		b.Fatalf("revoked %d of %d", sum.Counts[provider.OutcomeRevoked], b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
}
