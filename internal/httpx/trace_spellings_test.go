package httpx

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Vendor admin APIs and SDK-shaped answers spell credential members in
// camelCase or kebab-case, and may carry a PEM private key anywhere.
func TestTheDebugTraceRedactsEverySpellingAndPEMKeys(t *testing.T) {
	const pemKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA-SECRET-PEM\n-----END RSA PRIVATE KEY-----\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"clientSecret":"cs-SECRET-1","refreshToken":"rt-SECRET-2","accessToken":"at-SECRET-3","idToken":"it-SECRET-4","privateKey":"pk-SECRET-5","client-secret":"cs-SECRET-6","note":` + jsonString(pemKey) + `,"clientId":"kept-client"}`))
	}))
	defer srv.Close()
	var trace bytes.Buffer
	c := newTestClient(t, Options{Debug: &trace})
	_, err := c.Do(context.Background(), Request{Method: "POST", URL: srv.URL + "/apps", JSON: map[string]any{"clientSecret": "cs-SECRET-7", "settings": map[string]any{"apiKey": "ak-SECRET-8"}, "pem": pemKey}})
	if err != nil {
		t.Fatal(err)
	}
	out := trace.String()
	if strings.Contains(out, "SECRET") {
		t.Fatalf("secret in trace:\n%s", out)
	}
	if !strings.Contains(out, "kept-client") {
		t.Fatalf("ordinary members should stay:\n%s", out)
	}
}

func jsonString(s string) string {
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}
