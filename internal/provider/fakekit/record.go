package fakekit

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
)

// maxBody caps what a fake reads of a request body; no admin call the
// adapters make comes near it.
const maxBody = 1 << 20

// Request is what reached a fake, for tests to assert on.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	// Authorization is the Authorization header, the credential sent.
	Authorization string
	Body          []byte
}

// Capture reads r's body and returns what reached the fake.
func Capture(r *http.Request) Request {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	return Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(),
		Authorization: r.Header.Get("Authorization"), Body: body,
	}
}

// String is "METHOD /path?query", for assertions and failure messages.
func (r Request) String() string {
	if q := r.Query.Encode(); q != "" {
		return r.Method + " " + r.Path + "?" + q
	}
	return r.Method + " " + r.Path
}

// Log is a list a fake appends to while serving and a test reads. It is
// safe for concurrent use; readers get a copy.
type Log[T any] struct {
	mu    sync.Mutex
	items []T
}

// Add appends v and returns how many items the log holds.
func (l *Log[T]) Add(v T) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, v)
	return len(l.items)
}

// All returns a copy of the items, oldest first.
func (l *Log[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// Clear forgets the items.
func (l *Log[T]) Clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = nil
}

// Recorder keeps what reached a fake and the contract violations it saw.
// A violation is anything the real API would refuse from a correct client,
// or that the adapter should never send; tests assert there are none.
type Recorder[R any] struct {
	requests   Log[R]
	violations Log[string]
}

// Record appends a request and returns how many have been recorded, which
// fakes use to number request ids.
func (r *Recorder[R]) Record(req R) int { return r.requests.Add(req) }

// Requests returns the requests recorded, oldest first.
func (r *Recorder[R]) Requests() []R { return r.requests.All() }

// ClearRequests forgets the recorded requests.
func (r *Recorder[R]) ClearRequests() { r.requests.Clear() }

// Violate records a contract violation and returns its message, for the
// fake to answer with HTTP 418 in its vendor's error shape: a test then
// fails loudly at the bad request rather than on a confusing later
// assertion.
func (r *Recorder[R]) Violate(format string, args ...any) string {
	msg := fmt.Sprintf(format, args...)
	r.violations.Add(msg)
	return msg
}

// Violations returns the contract violations seen, oldest first.
func (r *Recorder[R]) Violations() []string { return r.violations.All() }
