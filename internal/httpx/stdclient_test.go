package httpx

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
)

func TestTheStandardClientKeepsTheTimeoutBodyCapAndRedirectRule(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		case "/big":
			w.Write(bytes.Repeat([]byte("x"), 2048))
		case "/redirect":
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
		default:
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"tok-abcdef123456","echo":` + strconvQuote(string(body)) + `}`))
		}
	}))
	defer srv.Close()
	c := newTestClient(t, Options{Timeout: 200 * time.Millisecond, MaxBody: 1024})
	hc := c.StandardClient()

	// net/http rewraps a timeout as text; the sentence survives.
	if _, err := hc.Get(srv.URL + "/slow"); err == nil || !strings.Contains(err.Error(), "within 200ms") {
		t.Errorf("slow: %v", err)
	}
	if _, err := hc.Get(srv.URL + "/big"); errs.KindOf(err) != errs.KindNetwork || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big: %v", err)
	}
	resp, err := hc.Get(srv.URL + "/redirect")
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Errorf("redirect was followed: %v %v", resp, err)
	}
	if _, err := hc.Get("http://example.com/"); errs.KindOf(err) != errs.KindUsage {
		t.Errorf("plain http off loopback: %v", err)
	}
}

func TestTheStandardClientTracesWithSecretsBlanked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"tok-abcdef123456","token_type":"Bearer"}`))
	}))
	defer srv.Close()
	var trace bytes.Buffer
	c := newTestClient(t, Options{Debug: &trace})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/token",
		strings.NewReader(url.Values{"grant_type": {"jwt"}, "assertion": {"signed-assertion-value"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Amz-Security-Token", "session-token-value")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/x, Signature=sig-value")
	resp, err := c.StandardClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "tok-abcdef123456") {
		t.Fatalf("the caller must get the whole body: %s", body)
	}
	out := trace.String()
	for _, secret := range []string{"signed-assertion-value", "session-token-value", "sig-value", "tok-abcdef123456"} {
		if strings.Contains(out, secret) {
			t.Errorf("the trace shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "-> POST") || !strings.Contains(out, "<- 200") {
		t.Errorf("no trace of the exchange:\n%s", out)
	}
}

func strconvQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
