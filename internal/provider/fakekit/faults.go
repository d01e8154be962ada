package fakekit

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is an error answer a fake serves instead of the real one. The
// standard faults are the failures every admin adapter must classify:
// refusals (401, 403), rate limits (429), server errors (500, 503) and a
// reverse proxy's HTML page where JSON was expected.
type Fault int

// The standard faults. Vendor fakes give them their own names.
const (
	Unauthorized Fault = iota + 1 // 401
	Forbidden                     // 403
	RateLimited                   // 429, with Retry-After and the vendor's rate-limit headers
	ServerError                   // 500
	Unavailable                   // 503, with Retry-After
	HTMLPage                      // 502 with an HTML page, as a reverse proxy answers
)

// VendorFault is the first Fault value free for a vendor's own faults,
// which Answer does not know: the fake takes them with Take and answers
// them itself.
const VendorFault Fault = 100

// Status is the HTTP status a standard fault is answered with.
func (f Fault) Status() int {
	switch f {
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case RateLimited:
		return http.StatusTooManyRequests
	case ServerError:
		return http.StatusInternalServerError
	case Unavailable:
		return http.StatusServiceUnavailable
	case HTMLPage:
		return http.StatusBadGateway
	}
	return 0
}

func (f Fault) String() string {
	if f == HTMLPage {
		return "html page"
	}
	if s := f.Status(); s != 0 {
		return strconv.Itoa(s)
	}
	return "fault " + strconv.Itoa(int(f))
}

// Injection schedules a fault for matching requests.
type Injection struct {
	// Method, and Path (the whole path) or PathPrefix, select requests;
	// empty matches any.
	Method     string
	Path       string
	PathPrefix string
	Fault      Fault
	// Times is how many matching requests get the fault: 0 means once,
	// a negative number means every one.
	Times int
	// ResetIn is when a 429's rate-limit window resets (default 60s).
	ResetIn time.Duration
}

func (in *Injection) matches(r *http.Request) bool {
	return (in.Method == "" || in.Method == r.Method) &&
		(in.Path == "" || in.Path == r.URL.Path) &&
		strings.HasPrefix(r.URL.Path, in.PathPrefix)
}

// Page is a body served as an HTML page rather than as JSON.
type Page struct {
	ContentType string
	HTML        string
}

// BadGateway is the plain 502 page of a generic reverse proxy.
func BadGateway() Page {
	return Page{
		ContentType: "text/html; charset=utf-8",
		HTML:        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>",
	}
}

// RateLimitHeaders names a vendor's rate-limit headers: the size of the
// window, the requests left in it, and when it resets (Unix seconds).
type RateLimitHeaders struct {
	Limit, Remaining, Reset string
}

// Set writes a rate-limit window to h.
func (n RateLimitHeaders) Set(h http.Header, limit, remaining int, reset time.Time) {
	if n.Limit != "" {
		h.Set(n.Limit, strconv.Itoa(limit))
	}
	n.exhaust(h, remaining, reset)
}

func (n RateLimitHeaders) exhaust(h http.Header, remaining int, reset time.Time) {
	if n.Remaining != "" {
		h.Set(n.Remaining, strconv.Itoa(remaining))
	}
	if n.Reset != "" {
		h.Set(n.Reset, strconv.FormatInt(reset.Unix(), 10))
	}
}

// Faults schedules faults and answers them in one vendor's shapes. The
// fake fills in the exported fields once; the methods are safe for
// concurrent use.
type Faults struct {
	// Body is the vendor's body for a fault: a Page is served as HTML,
	// anything else through JSON. It may set vendor headers on h, such as
	// WWW-Authenticate on a 401.
	Body func(h http.Header, f Fault) any
	// JSON writes a JSON answer the way the vendor does.
	JSON func(w http.ResponseWriter, status int, v any)
	// RetryAfter is sent with 429 and 503 answers; empty sends none.
	RetryAfter string
	// RateLimit names the headers a 429 empties, with the reset ResetIn
	// ahead of Now; the zero value sends none.
	RateLimit RateLimitHeaders
	// Now is the clock of rate-limit resets; nil is time.Now.
	Now func() time.Time

	mu        sync.Mutex
	scheduled []*Injection
}

// Inject schedules a fault after those already scheduled.
func (f *Faults) Inject(in Injection) {
	if in.Times == 0 {
		in.Times = 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scheduled = append(f.scheduled, &in)
}

// Take uses up one turn of the first scheduled fault that matches r.
func (f *Faults) Take(r *http.Request) (Injection, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, in := range f.scheduled {
		if !in.matches(r) {
			continue
		}
		if in.Times > 0 {
			in.Times--
			if in.Times == 0 {
				f.scheduled = append(f.scheduled[:i:i], f.scheduled[i+1:]...)
			}
		}
		return *in, true
	}
	return Injection{}, false
}

// Serve answers r with the first scheduled fault that matches it and
// reports whether there was one.
func (f *Faults) Serve(w http.ResponseWriter, r *http.Request) bool {
	in, ok := f.Take(r)
	if ok {
		f.Answer(w, in)
	}
	return ok
}

// Answer writes a standard fault: its status, Retry-After and the
// rate-limit headers where they belong, and the vendor's body.
func (f *Faults) Answer(w http.ResponseWriter, in Injection) {
	h := w.Header()
	if in.Fault == RateLimited {
		reset := in.ResetIn
		if reset <= 0 {
			reset = time.Minute
		}
		now := time.Now
		if f.Now != nil {
			now = f.Now
		}
		f.RateLimit.exhaust(h, 0, now().Add(reset))
	}
	if (in.Fault == RateLimited || in.Fault == Unavailable) && f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	switch body := f.Body(h, in.Fault).(type) {
	case Page:
		WriteText(w, in.Fault.Status(), body.ContentType, body.HTML)
	default:
		f.JSON(w, in.Fault.Status(), body)
	}
}
