package ciscoucm

import (
	"strings"
	"testing"
)

// FuzzTokensNeverSurviveBlanking: the refresh tokens a revoke answer lists
// are never left in text derived from it.
func FuzzTokensNeverSurviveBlanking(f *testing.F) {
	f.Add(`{"revoked_tokens":{"status":"success","user_id":"jdoe","clientID_tokens":[{"client_id":"jabber","refresh_token":"MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA"}]}}`)
	f.Add(`{"revoked_tokens":{"status":"failure","message":"could not revoke MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA","clientID_tokens":[{"client_id":"c","refresh_token":"MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA"}]}}`)
	f.Fuzz(func(t *testing.T, body string) {
		known := tokenValues([]byte(body))
		out := blankTokens(body, known)
		for _, tok := range known {
			if len(tok) >= 8 && strings.Contains(out, tok) {
				t.Fatalf("token %q survived in %q", tok, out)
			}
		}
	})
}
