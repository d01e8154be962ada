package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
)

// DecodeJSON decodes a JSON response body into v. A body that is not JSON
// (an HTML error page from a proxy, a truncated document) gives a one-line
// KindNetwork error naming what came back instead, never the body itself,
// which may hold a credential.
func DecodeJSON(resp *Response, v any) error {
	host := hostOf(resp.URL)
	body := bytes.TrimSpace(resp.Body)
	if len(body) == 0 {
		return errs.New(errs.KindNetwork, "%s answered HTTP %d with an empty body where JSON was expected", host, resp.Status)
	}
	if looksLikeHTML(body, resp.Header.Get("Content-Type")) {
		return errs.New(errs.KindNetwork, "%s answered HTTP %d with an HTML page instead of JSON%s; is the URL right, or is a proxy in the way?", host, resp.Status, htmlTitle(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return errs.New(errs.KindNetwork, "%s answered HTTP %d with malformed JSON (at byte %d of %d)", host, resp.Status, se.Offset, len(body))
		case errors.As(err, &te):
			return errs.New(errs.KindNetwork, "%s answered with JSON whose field %q has the wrong type (%s, expected %s)", host, te.Field, te.Value, te.Type)
		default:
			return errs.New(errs.KindNetwork, "%s answered HTTP %d with JSON that could not be read", host, resp.Status)
		}
	}
	return nil
}

// IsJSON reports whether the body parses as JSON, for callers that must
// tell an error document from a page.
func IsJSON(body []byte) bool { return json.Valid(bytes.TrimSpace(body)) }

func looksLikeHTML(body []byte, contentType string) bool {
	if strings.Contains(contentType, "text/html") {
		return true
	}
	return len(body) > 0 && body[0] == '<'
}

// htmlTitle quotes the page's <title>, which usually says what went wrong
// ("502 Bad Gateway"), cut short and stripped of anything odd.
func htmlTitle(body []byte) string {
	lower := asciiLower(body)
	start := bytes.Index(lower, []byte("<title>"))
	if start < 0 {
		return ""
	}
	rest := body[start+len("<title>"):]
	end := bytes.Index(asciiLower(rest), []byte("</title>"))
	if end < 0 {
		return ""
	}
	title := strings.Join(strings.Fields(string(rest[:end])), " ")
	if len(title) > 80 {
		title = title[:80] + "..."
	}
	if title == "" {
		return ""
	}
	return fmt.Sprintf(" (%q)", title)
}

// Host returns the host part of a URL for messages.
func Host(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// asciiLower lower-cases ASCII letters only, so offsets in the result are
// offsets in the input (bytes.ToLower rewrites invalid UTF-8 and changes
// the length, which a hostile page can use to break slicing).
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}
