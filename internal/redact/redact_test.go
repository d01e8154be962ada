package redact

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

func TestFormBlanksEveryCredentialParameter(t *testing.T) {
	in := "grant_type=refresh_token&refresh_token=rt-123456&client_id=app&client_secret=s3cret-value&code_verifier=vvvvvvvv"
	out := Form(in)
	for _, leaked := range []string{"rt-123456", "s3cret-value", "vvvvvvvv"} {
		if strings.Contains(out, leaked) {
			t.Errorf("%q leaked in %q", leaked, out)
		}
	}
	for _, kept := range []string{"grant_type=refresh_token", "client_id=app"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q should be kept in %q", kept, out)
		}
	}
}

func TestJSONBlanksTokensPrivateJWKMembersAndJWTs(t *testing.T) {
	in := `{"access_token":"opaque-at","token_type":"Bearer","keys":[{"kty":"RSA","n":"pub","e":"AQAB","d":"private-d","p":"private-p"}],"note":"` + jwt + `","revoked_tokens":{"clientID_tokens":[{"client_id":"c","refresh_token":"rt-ucm"}]}}`
	out := JSON([]byte(in))
	for _, leaked := range []string{"opaque-at", "private-d", "private-p", jwt, "rt-ucm"} {
		if strings.Contains(out, leaked) {
			t.Errorf("%q leaked in %s", leaked, out)
		}
	}
	for _, kept := range []string{`"n":"pub"`, `"token_type":"Bearer"`, `"client_id":"c"`} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q should be kept in %s", kept, out)
		}
	}
}

func TestTextBlanksLiteralSecretsAndJWTs(t *testing.T) {
	out := Text("token "+jwt+" and secret hunter2-long in text", "hunter2-long")
	if strings.Contains(out, jwt) || strings.Contains(out, "hunter2-long") {
		t.Fatalf("leak: %s", out)
	}
}

func TestURLBlanksQueryCredentialsAndUserinfo(t *testing.T) {
	out := URL("https://user:pw@idp.example/cb?code=abc123&state=xyz")
	if strings.Contains(out, "abc123") || strings.Contains(out, "pw@") {
		t.Fatalf("leak: %s", out)
	}
	if !strings.Contains(out, "state=xyz") {
		t.Fatalf("state should be kept: %s", out)
	}
}

func FuzzJSONNeverLeaksAnAccessToken(f *testing.F) {
	f.Add(`{"access_token":"SECRETVALUE"}`)
	f.Add(`[{"a":{"access_token":"SECRETVALUE"}}]`)
	f.Fuzz(func(t *testing.T, doc string) {
		out := JSON([]byte(doc))
		if strings.Contains(doc, `"access_token":"SECRETVALUE"`) && strings.Contains(out, "SECRETVALUE") && !strings.Contains(doc, `SECRETVALUE"`+`,"access_token"`) {
			// Only a document that is valid JSON is walked; invalid ones are
			// text-redacted, which cannot know member names.
			if isJSON(doc) && strings.Count(doc, "SECRETVALUE") == 1 {
				t.Fatalf("leak: %s -> %s", doc, out)
			}
		}
	})
}

func isJSON(s string) bool {
	var v any
	return json.Unmarshal([]byte(s), &v) == nil
}

// FuzzFormNeverLeaksASecretParameter: after form redaction, every
// credential parameter's value is the mask, whatever else the body holds.
func FuzzFormNeverLeaksASecretParameter(f *testing.F) {
	f.Add("grant_type=x&client_secret=abcdef")
	f.Add("client_secret=a%26b&x=1&refresh_token=rt&code_verifier=v")
	f.Add("%0000=&client_secret=0000")
	f.Fuzz(func(t *testing.T, body string) {
		if _, err := url.ParseQuery(body); err != nil {
			return
		}
		out, err := url.ParseQuery(Form(body))
		if err != nil {
			t.Fatalf("redaction produced an unparsable form from %q", body)
		}
		for k, vs := range out {
			if !IsSensitiveKey(k) {
				continue
			}
			for _, v := range vs {
				if v != Mask {
					t.Fatalf("%s=%q survived redaction of %q", k, v, body)
				}
			}
		}
	})
}

func TestASensitiveValueQuotedElsewhereInTheDocumentIsBlankedToo(t *testing.T) {
	in := `{"revoked_tokens":{"status":"failure","message":"could not revoke rt-ucm-0123456789 for jdoe","clientID_tokens":[{"client_id":"c","refresh_token":"rt-ucm-0123456789"}]}}`
	out := JSON([]byte(in))
	if strings.Contains(out, "rt-ucm-0123456789") {
		t.Fatalf("leak: %s", out)
	}
	if !strings.Contains(out, "for jdoe") {
		t.Fatalf("the rest of the message should stay: %s", out)
	}
}

func TestEverySpellingOfACredentialNameIsBlanked(t *testing.T) {
	for _, name := range []string{
		"clientSecret", "client-secret", "ClientSecret", "CLIENT_SECRET", "refreshToken", "accessToken",
		"idToken", "privateKey", "private-key", "clientAssertion", "codeVerifier", "apiKey", "api_key",
		"subjectToken", "deviceCode", "Password",
	} {
		t.Run(name, func(t *testing.T) {
			doc := `{"outer":{"` + name + `":"credential-value-1234"},"name":"kept"}`
			if out := JSON([]byte(doc)); strings.Contains(out, "credential-value-1234") || !strings.Contains(out, "kept") {
				t.Errorf("JSON: %s", out)
			}
			form := url.Values{name: {"credential-value-1234"}, "name": {"kept"}}.Encode()
			if out := Form(form); strings.Contains(out, "credential-value-1234") || !strings.Contains(out, "kept") {
				t.Errorf("form: %s", out)
			}
		})
	}
	for _, name := range []string{"client_id", "clientId", "tokenType", "token_type", "expires_in", "user_code", "keyId"} {
		if IsSensitiveKey(name) {
			t.Errorf("%s is not a credential", name)
		}
	}
}

const pemKey = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nVJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n-----END PRIVATE KEY-----\n"

func TestPEMPrivateKeysAreBlankedWherever(t *testing.T) {
	body, _ := json.Marshal(map[string]string{"note": "here is the key " + pemKey + " ok", "keyPem": pemKey})
	rsa := strings.ReplaceAll(pemKey, "BEGIN PRIVATE", "BEGIN RSA PRIVATE")
	rsa = strings.ReplaceAll(rsa, "END PRIVATE", "END RSA PRIVATE")
	for name, in := range map[string]string{
		"in JSON":         JSON(body),
		"in text":         Text("before " + pemKey + " after"),
		"an RSA key":      Text("before " + rsa + " after"),
		"cut short":       Text("before " + pemKey[:120]),
		"in a form value": Form(url.Values{"note": {pemKey}}.Encode()),
	} {
		if strings.Contains(in, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7") || strings.Contains(in, "VJTUt9Us8cKjMzEfYyjiWA4R4") {
			t.Errorf("%s: the key survived: %s", name, in)
		}
	}
	if out := Text("-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----"); !strings.Contains(out, "MIIBcert") {
		t.Errorf("a certificate is public and should stay: %s", out)
	}
}

func TestURLMasksThePasswordButKeepsTheUser(t *testing.T) {
	out := URL("http://alice:pr0xy-pass@proxy.example:3128")
	if strings.Contains(out, "pr0xy-pass") || !strings.Contains(out, "alice:xxxxx@proxy.example:3128") {
		t.Fatalf("got %s", out)
	}
}

// FuzzTextNeverLeaksAPEMPrivateKey: a PEM private key block put anywhere in
// text does not survive redaction.
func FuzzTextNeverLeaksAPEMPrivateKey(f *testing.F) {
	f.Add("prefix ", " suffix")
	f.Add("{\"k\":\"", "\"}")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, before, after string) {
		out := Text(before + pemKey + after)
		if strings.Contains(out, "VJTUt9Us8cKjMzEfYyjiWA4R4") && !strings.Contains(before+after, "VJTUt9Us8cKjMzEfYyjiWA4R4") {
			t.Fatalf("leak: %q", out)
		}
	})
}

func TestURLPasswordMasksOnlyThePassword(t *testing.T) {
	for in, want := range map[string]string{
		"http://alice:s3cret@proxy:3128":      "http://alice:xxxxx@proxy:3128",
		"http://alice@proxy:3128":             "http://alice@proxy:3128",
		"https://idp.example/realms/a?code=1": "https://idp.example/realms/a?code=1",
		"":                                    "",
		"not a url":                           "not a url",
		// What net/url does not read as a URL with a password, but a
		// proxy setting still means as one.
		"bob:hunter2@proxy.corp:3128":         "bob:xxxxx@proxy.corp:3128",
		"http://bob:hunter2@proxy.corp:3128 ": "http://bob:xxxxx@proxy.corp:3128 ",
		"http://bob:hunter2@[::1":             "http://bob:xxxxx@[::1",
	} {
		if got := URLPassword(in); got != want {
			t.Errorf("URLPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzURLPasswordNeverShowsThePassword: whatever the URL, what is shown
// does not depend on the password in its user information, the password
// does not survive, and the result is still the same URL.
func FuzzURLPasswordNeverShowsThePassword(f *testing.F) {
	f.Add("http", "alice", "pr0xy-pass-01", "proxy.example:3128", "")
	f.Add("https", "a%40b", "p%3Ass", "[::1]:8080", "")
	f.Add("socks5", "", "only-pass-1234", "h", "")
	// Found in CI: writing the URL back out escaped the fragment's space
	// as %20, and "%20" + "0000000" spelled the password 00000000.
	f.Add("A", "", "00000000", "", "# 0000000")
	f.Fuzz(func(t *testing.T, scheme, user, pass, host, tail string) {
		const other = "Zq9-other-pass"
		raw := scheme + "://" + user + ":" + pass + "@" + host + "/" + tail
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			return
		}
		p, has := u.User.Password()
		if !has || p == "" {
			return
		}
		out := URLPassword(raw)
		back, err := url.Parse(out)
		if err != nil || back.Host != u.Host || back.User == nil || back.User.Username() != u.User.Username() ||
			back.Path != u.Path || back.Fragment != u.Fragment || back.RawQuery != u.RawQuery {
			t.Fatalf("%q -> %q is not the same URL any more (%v)", raw, out, err)
		}
		// The same URL with another password must be shown exactly alike:
		// nothing of the password reaches the output, however it is spelt.
		rawOther := scheme + "://" + user + ":" + other + "@" + host + "/" + tail
		if v, err := url.Parse(rawOther); err == nil && v.User != nil && v.Host == u.Host && v.User.Username() == u.User.Username() &&
			v.Path == u.Path && v.Fragment == u.Fragment && v.RawQuery == u.RawQuery {
			if o := URLPassword(rawOther); o != out {
				t.Fatalf("the shown URL depends on the password: %q -> %q but %q -> %q", raw, out, rawOther, o)
			}
		}
		if len(p) >= 8 && strings.Count(raw, p) == 1 && !strings.Contains(scheme+user+host+tail+PasswordMask, p) &&
			(strings.Contains(out, p) || strings.Contains(out, url.QueryEscape(p))) {
			t.Fatalf("%q -> %q shows the password", raw, out)
		}
	})
}

// A proxy written without a scheme parses as an opaque URL with no user
// information; its password is masked all the same wherever it is quoted.
func TestURLMasksThePasswordOfASchemelessProxy(t *testing.T) {
	for _, in := range []string{"bob:hunter2@proxy.corp:3128", "http://bob:hunter2@[::1"} {
		if out := URL(in); strings.Contains(out, "hunter2") {
			t.Errorf("URL(%q) = %q", in, out)
		}
	}
}
