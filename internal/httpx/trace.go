package httpx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/redact"
)

// traceBodyLimit keeps the debug trace readable; bodies are cut, not dropped.
const traceBodyLimit = 4096

func jsonMarshal(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return json.Marshal(v)
}

func (c *Client) tracef(format string, args ...any) {
	if c.opts.Debug == nil {
		return
	}
	fmt.Fprintf(c.opts.Debug, "[debug] "+format+"\n", args...)
}

func (c *Client) traceRequest(req Request, h http.Header, fullURL string, body []byte, attempt int) {
	if c.opts.Debug == nil {
		return
	}
	secrets := append([]string{req.BasicPassword}, req.Secrets...)
	var b strings.Builder
	fmt.Fprintf(&b, "[debug] -> %s %s", req.Method, redact.URL(fullURL, secrets...))
	if attempt > 1 {
		fmt.Fprintf(&b, " (attempt %d)", attempt)
	}
	b.WriteString("\n")
	writeHeaders(&b, h, secrets)
	if req.BasicUser != "" {
		fmt.Fprintf(&b, "[debug]    Authorization: Basic %s\n", redact.Mask)
	}
	if len(body) > 0 {
		var shown string
		if req.Form != nil {
			shown = redact.Form(string(body), secrets...)
		} else {
			shown = redact.JSON(body, secrets...)
		}
		fmt.Fprintf(&b, "[debug]    %s\n", cut(shown))
	}
	fmt.Fprint(c.opts.Debug, b.String())
}

func (c *Client) traceResponse(req Request, resp *Response, took time.Duration) {
	if c.opts.Debug == nil {
		return
	}
	secrets := append([]string{req.BasicPassword}, req.Secrets...)
	var b strings.Builder
	fmt.Fprintf(&b, "[debug] <- %d %s in %s (%d bytes)\n", resp.Status, http.StatusText(resp.Status), took.Round(time.Millisecond), len(resp.Body))
	writeHeaders(&b, resp.Header, secrets)
	if len(resp.Body) > 0 {
		ct := resp.Header.Get("Content-Type")
		var shown string
		switch {
		// A body that parses as JSON is redacted as JSON whatever its
		// label: some admin APIs send JSON as text/plain.
		case strings.Contains(ct, "json") || IsJSON(resp.Body):
			shown = redact.JSON(resp.Body, secrets...)
		case strings.Contains(ct, "x-www-form-urlencoded"):
			shown = redact.Form(string(resp.Body), secrets...)
		default:
			shown = redact.Text(string(resp.Body), secrets...)
		}
		fmt.Fprintf(&b, "[debug]    %s\n", cut(shown))
	}
	fmt.Fprint(c.opts.Debug, b.String())
}

func writeHeaders(b *strings.Builder, h http.Header, secrets []string) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			if redact.IsSensitiveHeader(k) {
				scheme, _, found := strings.Cut(v, " ")
				if found && !strings.EqualFold(k, "cookie") && !strings.EqualFold(k, "set-cookie") {
					v = scheme + " " + redact.Mask
				} else {
					v = redact.Mask
				}
			} else {
				v = redact.Text(v, secrets...)
			}
			fmt.Fprintf(b, "[debug]    %s: %s\n", k, v)
		}
	}
}

func cut(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > traceBodyLimit {
		return s[:traceBodyLimit] + fmt.Sprintf("... (%d more bytes)", len(s)-traceBodyLimit)
	}
	return s
}

// redactURL is used in error messages about malformed URLs.
func redactURL(raw string) string { return redact.URL(raw) }
