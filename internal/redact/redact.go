// Package redact blanks secrets out of text that people or logs will see:
// the --debug trace, error messages quoting an IdP, the audit log.
package redact

import (
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Mask replaces a secret value.
const Mask = "[redacted]"

// PasswordMask replaces the password of a URL's user information, so that
// user:xxxxx@host still says which user is meant.
const PasswordMask = "xxxxx"

// sensitiveKeys are form, query and JSON member names whose values are
// credentials. The JWK private members (RFC 7518 §6.2.2, §6.3.2, §6.4.1) are
// only redacted inside JSON objects, where they cannot be confused with
// ordinary single-letter parameters.
var sensitiveKeys = map[string]bool{
	"client_secret": true, "client_assertion": true, "refresh_token": true,
	"access_token": true, "id_token": true, "code": true, "code_verifier": true,
	"password": true, "device_code": true, "assertion": true, "subject_token": true,
	"actor_token": true, "token": true, "issued_token": true, "secret": true,
	"api_token": true, "private_key": true, "user_code": false,
}

var jwkPrivateMembers = map[string]bool{"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "k": true, "oth": true}

var sensitiveHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"x-api-key": true, "dpop": true,
}

// jwtPattern matches compact JWS (three parts) and JWE (five parts) tokens:
// every JOSE header starts with base64url("{\"") = "eyJ".
var jwtPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){2,4}`) })

// normalKey folds the spellings of one name together: clientSecret,
// client-secret, Client_Secret and CLIENTSECRET all become clientsecret.
func normalKey(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, name)
}

// sensitiveNormal is sensitiveKeys under normalKey, plus names that vendor
// APIs and SDK configurations spell only in camelCase.
var sensitiveNormal = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{"apikey": true, "privatekeypem": true, "clientsecretvalue": true, "bearertoken": true, "sessiontoken": true, "passwd": true}
	for k, v := range sensitiveKeys {
		if v {
			m[normalKey(k)] = true
		}
	}
	return m
})

// IsSensitiveKey reports whether a parameter of that name holds a secret,
// whatever its spelling (snake_case, camelCase, kebab-case).
func IsSensitiveKey(name string) bool { return sensitiveNormal()[normalKey(name)] }

// IsSensitiveHeader reports whether an HTTP header carries a credential.
func IsSensitiveHeader(name string) bool { return sensitiveHeaders[strings.ToLower(name)] }

// pemPrivateKey matches a PEM private key block (RFC 7468 §10, §11 and the
// "RSA"/"EC"/"OPENSSH" variants), also when its line breaks are JSON
// escapes or the body was cut before the END line.
var pemPrivateKey = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\]*)`)
})

// Text blanks JWT-shaped strings, PEM private keys and each of the given
// literal secrets.
func Text(s string, secrets ...string) string {
	// Longest first so that a secret containing another is blanked whole.
	sorted := append([]string(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, sec := range sorted {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	if strings.Contains(s, "PRIVATE KEY-----") {
		s = pemPrivateKey().ReplaceAllString(s, Mask)
	}
	return jwtPattern().ReplaceAllString(s, Mask)
}

// Form redacts an application/x-www-form-urlencoded body or a query string.
func Form(encoded string, secrets ...string) string {
	vals, err := url.ParseQuery(encoded)
	if err != nil {
		return Text(encoded, secrets...)
	}
	for k := range vals {
		for i, v := range vals[k] {
			if IsSensitiveKey(k) {
				vals[k][i] = Mask
			} else {
				// Decoded first: encoded, a PEM block's line breaks and a
				// secret's reserved characters would not match.
				vals[k][i] = Text(v, secrets...)
			}
		}
	}
	// Encode escapes the mask; keep it readable.
	out := strings.ReplaceAll(vals.Encode(), url.QueryEscape(Mask), Mask)
	return Text(out, secrets...)
}

// URL redacts sensitive query parameters of a URL.
func URL(raw string, secrets ...string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.User == nil && u.Opaque != "") {
		// Not a URL with user information as net/url reads it ("bob:pw@h"
		// parses as scheme bob), yet maybe one as a person meant it.
		return Text(maskLooseUserinfo(raw), secrets...)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), PasswordMask)
		}
	}
	if u.RawQuery != "" {
		u.RawQuery = Form(u.RawQuery, secrets...)
	}
	return Text(u.String(), secrets...)
}

// URLPassword masks only the password of a URL's user information
// (user:pass@host becomes user:xxxxx@host) and leaves the rest as written:
// for showing configured URLs such as a proxy. Text that is not a URL with
// a password comes back unchanged.
//
// The password is cut out of the text in place rather than by writing the
// parsed URL back out: re-escaping the rest can spell the password anew
// (a fragment " 0000000" is written "%200000000"), and the user typed the
// URL the way it should be shown.
func URLPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		// Not a URL net/url reads as one (no scheme: "bob:pw@proxy:3128",
		// which parses as scheme "bob"; a stray space; a broken host), yet
		// it may still be what a proxy setting means: mask what sits where
		// a password would.
		return maskLooseUserinfo(raw)
	}
	pass, has := u.User.Password()
	if !has || pass == "" {
		return raw
	}
	if from, to, ok := rawPasswordSpan(raw); ok {
		out := raw[:from] + PasswordMask + raw[to:]
		// Trust the cut only if it parses to the same URL with the mask
		// for a password; otherwise fall back to writing the URL out.
		if back, err := url.Parse(out); err == nil && back.User != nil && back.Host == u.Host &&
			back.User.Username() == u.User.Username() && back.Path == u.Path && back.RawQuery == u.RawQuery &&
			back.Fragment == u.Fragment {
			if p, _ := back.User.Password(); p == PasswordMask {
				return out
			}
		}
	}
	u.User = url.UserPassword(u.User.Username(), PasswordMask)
	return u.String()
}

// looseUserinfo matches "user:password@" at the start of text that may
// not parse as a URL, with or without a scheme; the password is group 2.
var looseUserinfo = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\s*(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^:/?#@\s]*:)([^@/?#\s]+)(@)`)
})

// maskLooseUserinfo masks the password of a leading "user:password@" in
// text that does not parse as a URL with user information.
func maskLooseUserinfo(raw string) string {
	return looseUserinfo().ReplaceAllString(raw, "${1}"+PasswordMask+"${3}")
}

// rawPasswordSpan finds the password of a URL's user information in the
// text as written, splitting it the way net/url does (RFC 3986 §3.2): the
// authority follows the first "//" before any query or fragment and ends at
// the next "/", the user information ends at the authority's last "@", and
// the password follows the first ":" in it.
func rawPasswordSpan(raw string) (from, to int, ok bool) {
	s := raw
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	start := strings.Index(s, "//")
	if start < 0 {
		return 0, 0, false
	}
	start += 2
	authority := s[start:]
	if i := strings.IndexByte(authority, '/'); i >= 0 {
		authority = authority[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return 0, 0, false
	}
	colon := strings.IndexByte(authority[:at], ':')
	if colon < 0 {
		return 0, 0, false
	}
	return start + colon + 1, start + at, true
}

// JSON redacts a JSON document: sensitive members, private JWK members and
// JWT-shaped strings. Text that is not JSON is redacted as plain text.
func JSON(body []byte, secrets ...string) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return Text(string(body), secrets...)
	}
	// Values of sensitive members are also blanked wherever else they
	// appear in the document: an error message may quote the token it
	// refused (seen from Cisco UCM's revoke answer).
	var found []string
	v = walk(v, &found)
	out, err := json.Marshal(v)
	if err != nil {
		return Mask
	}
	return Text(string(out), append(found, secrets...)...)
}

func walk(v any, found *[]string) any {
	switch t := v.(type) {
	case map[string]any:
		_, isJWK := t["kty"]
		for k, val := range t {
			if IsSensitiveKey(k) || (isJWK && jwkPrivateMembers[k]) {
				if str, ok := val.(string); ok && len(str) >= 8 {
					*found = append(*found, str)
				}
				if val != nil {
					t[k] = Mask
				}
				continue
			}
			t[k] = walk(val, found)
		}
		return t
	case []any:
		for i := range t {
			t[i] = walk(t[i], found)
		}
		return t
	default:
		return v
	}
}
