package cli

import (
	"time"

	"github.com/idpctl/idpctl/internal/httpx"
)

// deadlineFactor sets the default --deadline: four times the per-request
// timeout leaves room for a slow first answer and a few retries, while a
// CI job waiting on an IdP that keeps answering 503 still ends in minutes.
const deadlineFactor = 4

// DeadlineBudget is the --deadline in force: the flag, else deadlineFactor
// times the per-request timeout.
func (f *Factory) DeadlineBudget() time.Duration {
	if f.Flags.Deadline > 0 {
		return f.Flags.Deadline
	}
	timeout := f.Flags.Timeout
	if timeout <= 0 {
		timeout = httpx.DefaultTimeout
	}
	return deadlineFactor * timeout
}

// CommandDeadline is when retries must stop, counted from the command's
// first HTTP client. Only retries are capped: a request made after a
// person's login is still sent once.
func (f *Factory) CommandDeadline() time.Time {
	// The wall clock, as httpx uses it to decide whether to retry; f.Now
	// may be fixed in tests.
	f.deadlineOnce.Do(func() { f.deadline = time.Now().Add(f.DeadlineBudget()) })
	return f.deadline
}
