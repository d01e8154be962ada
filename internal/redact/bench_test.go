package redact

import "testing"

// BenchmarkJSON measures redacting a typical token response for --debug.
func BenchmarkJSON(b *testing.B) {
	body := []byte(`{"access_token":"eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2lkcCIsInN1YiI6InUiLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU","token_type":"Bearer","expires_in":3600,"refresh_token":"8xLOxBtZp8","scope":"openid api:read","id_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_ = JSON(body, "client-secret-value")
	}
}
