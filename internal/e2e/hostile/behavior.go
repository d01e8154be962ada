package hostile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// BodyMarker is in every body a Behavior makes up, so that a test can tell
// when a client quotes a server's body back to the user: error messages
// name what came back, never echo it (the body may hold a credential).
const BodyMarker = "hostile-body-0x7f3a"

// HTML answers with an HTML error page, as a proxy or a gateway in front
// of the IdP does, titled with the status.
func HTML(status int) Behavior {
	return func(w http.ResponseWriter, _ *http.Request, _ Call) {
		title := fmt.Sprintf("%d %s", status, http.StatusText(status))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html>\n<head><title>%s</title></head>\n<body><h1>%s</h1><p>%s</p><hr>nginx</body>\n</html>\n", title, title, BodyMarker)
	}
}

// Truncated answers with the first half of the normal document, with a
// Content-Length that matches: the body arrives whole, but the JSON in it
// stops mid-way, as when a proxy cuts a response off.
func Truncated() Behavior {
	return func(w http.ResponseWriter, _ *http.Request, c Call) {
		doc := append([]byte(`{"note":"`+BodyMarker+`",`), bytes.TrimPrefix(c.Document, []byte("{"))...)
		cut := doc[:len(doc)/2]
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(cut)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(cut)
	}
}

// Oversized answers 200 with a JSON document of size bytes, most of it one
// string member, written until the client stops reading.
func Oversized(size int64) Behavior {
	return func(w http.ResponseWriter, _ *http.Request, _ Call) {
		head := []byte(`{"token_type":"Bearer","expires_in":60,"note":"` + BodyMarker + `","access_token":"`)
		tail := []byte(`"}`)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		w.WriteHeader(http.StatusOK)
		if _, err := w.Write(head); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for left := size - int64(len(head)+len(tail)); left > 0; left -= int64(len(chunk)) {
			if left < int64(len(chunk)) {
				chunk = chunk[:left]
			}
			if _, err := w.Write(chunk); err != nil {
				return // the client gave up, as it should
			}
		}
		_, _ = w.Write(tail)
	}
}

// Trickle sends the normal document one byte per interval, after sending
// the status line and headers at once: a server that is alive but too slow
// to wait for.
func Trickle(interval time.Duration) Behavior {
	return func(w http.ResponseWriter, r *http.Request, c Call) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		flusher, _ := w.(http.Flusher)
		for _, b := range c.Document {
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
			select {
			case <-time.After(interval):
			case <-r.Context().Done():
				return
			case <-c.Server.release:
				return
			}
		}
	}
}

// Hang reads the request and never answers, until the client goes away or
// the server shuts down. arrived, when not nil, receives a value (without
// blocking) once the request is in.
func Hang(arrived chan<- struct{}) Behavior {
	return func(_ http.ResponseWriter, r *http.Request, c Call) {
		if arrived != nil {
			select {
			case arrived <- struct{}{}:
			default:
			}
		}
		select {
		case <-r.Context().Done():
		case <-c.Server.release:
		}
	}
}

// Token answers 200 with a token response whose fields are the normal ones
// with fields laid over them (a nil value removes a field), e.g.
// {"expires_in": "3600"} or {"token_type": "mac"}.
func Token(fields map[string]any) Behavior {
	return func(w http.ResponseWriter, _ *http.Request, c Call) {
		var doc map[string]any
		_ = json.Unmarshal(c.Document, &doc) // the server's own document
		for k, v := range fields {
			if v == nil {
				delete(doc, k)
			} else {
				doc[k] = v
			}
		}
		writeJSON(w, http.StatusOK, mustJSON(doc))
	}
}

// Redirect answers with a redirect to location, e.g. a 307, which a
// client that follows it would answer by re-sending the same POST, with
// its credentials, to another server (RFC 9110 §15.4.8).
func Redirect(status int, location string) Behavior {
	return func(w http.ResponseWriter, _ *http.Request, _ Call) {
		w.Header().Set("Location", location)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		fmt.Fprintf(w, "moved to %s (%s)\n", location, BodyMarker)
	}
}

// Limited answers the first times requests with status, a Retry-After
// header from retryAfter (called per answer, so that an HTTP date is
// computed when it is sent) and body, and normally after that. times < 0
// limits every request.
func Limited(times, status int, retryAfter func() string, body []byte) Behavior {
	return func(w http.ResponseWriter, r *http.Request, c Call) {
		if times >= 0 && c.Hit > times {
			c.Normal(w, r)
			return
		}
		w.Header().Set("Retry-After", retryAfter())
		if len(body) > 0 {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// OAuthError is an RFC 6749 §5.2 error document. IdPs give their rate-limit
// and outage answers that shape too (Auth0's token endpoint answers with an
// error code and "Global limit has been reached"), so a client must not read
// every JSON error body as the IdP's refusal.
func OAuthError(code, description string) []byte {
	return mustJSON(map[string]string{"error": code, "error_description": description})
}

// RetryAfterSeconds is a Retry-After in delta-seconds (RFC 9110 §10.2.3).
func RetryAfterSeconds(d time.Duration) func() string {
	return func() string { return fmt.Sprint(int(d.Seconds())) }
}

// RetryAfterDate is a Retry-After as an HTTP date d after the moment the
// answer is sent, rounded up to whole seconds since the date format has
// no finer resolution.
func RetryAfterDate(d time.Duration) func() string {
	return func() string {
		at := time.Now().Add(d).Add(time.Second - 1).Truncate(time.Second)
		return at.UTC().Format(http.TimeFormat)
	}
}
