package ciscoucm

import (
	"net/http"
	"strings"
	"testing"
	"unicode"
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

// FuzzGetUserAnswers: whatever AXL sends back, a user is found only from a
// 200 with a getUserResponse, unknown only from a fault with axlcode 5007,
// and the vendor's words come back printable.
func FuzzGetUserAnswers(f *testing.F) {
	f.Add(500, `<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>Item not valid: The specified User was not found</faultstring><detail><axlError><axlcode>5007</axlcode><axlmessage>Item not valid: The specified User was not found</axlmessage><request>getUser</request></axlError></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
	f.Add(200, `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ns:getUserResponse xmlns:ns="http://www.cisco.com/AXL/API/12.5"><return><user><userid>jdoe</userid></user></return></ns:getUserResponse></soapenv:Body></soapenv:Envelope>`)
	f.Add(500, `<Envelope><Body><Fault><faultstring>Access denied`+"\x1b[31m"+`</faultstring><detail><axlError><axlcode>-1</axlcode></axlError></detail></Fault></Body></Envelope>`)
	f.Add(200, `<html><body>login</body></html>`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		verdict, _, vendor := readGetUser(status, []byte(body))
		switch verdict {
		case userFound:
			if status != http.StatusOK || !strings.Contains(body, "getUserResponse") {
				t.Fatalf("found from HTTP %d %q", status, body)
			}
		case userUnknown:
			if !strings.Contains(body, "5007") {
				t.Fatalf("unknown from %q", body)
			}
		}
		if verdict != userUnclear && vendor != "" {
			t.Fatalf("a clear verdict with words %q", vendor)
		}
		for _, r := range vendor {
			if unicode.IsControl(r) {
				t.Fatalf("unprintable %q in %q", r, vendor)
			}
		}
	})
}
