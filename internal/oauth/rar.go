package oauth

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/idpctl/idpctl/internal/errs"
)

// maxAuthorizationDetails bounds what is sent in a URL or form: a larger
// document is a mistake, and browsers cut long URLs.
const maxAuthorizationDetails = 16 << 10

// rarStringArrays are the common data fields of RFC 9396 §2.2, each an
// array of strings.
var rarStringArrays = []string{"locations", "actions", "datatypes", "privileges"}

// ParseAuthorizationDetails validates an RFC 9396 authorization_details
// value and returns it compacted: a JSON array of objects, each with a
// non-empty string type (§2), the common fields of §2.2 with their types.
// Errors are usage errors that say where the problem is.
func ParseAuthorizationDetails(raw []byte) (string, error) {
	// A file saved by some Windows editors starts with a UTF-8 byte order
	// mark, which JSON does not allow (RFC 8259 §8.1) but means nothing.
	raw = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(raw), []byte("\xef\xbb\xbf")))
	if len(raw) == 0 {
		return "", errs.New(errs.KindUsage, "the authorization details are empty: give a JSON array of objects with a \"type\" (RFC 9396)")
	}
	if len(raw) > maxAuthorizationDetails {
		return "", errs.New(errs.KindUsage, "the authorization details are %d bytes, more than the %d accepted", len(raw), maxAuthorizationDetails)
	}
	var details []json.RawMessage
	if err := json.Unmarshal(raw, &details); err != nil {
		if !json.Valid(raw) {
			return "", errs.New(errs.KindUsage, "the authorization details are not valid JSON: %s", jsonProblem(err))
		}
		return "", errs.New(errs.KindUsage, "the authorization details must be a JSON array of objects (RFC 9396 §2)")
	}
	if len(details) == 0 {
		return "", errs.New(errs.KindUsage, "the authorization details are an empty array: give at least one object with a \"type\"")
	}
	for i, d := range details {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(d, &obj); err != nil || obj == nil {
			return "", errs.New(errs.KindUsage, "authorization details entry %d is not a JSON object", i)
		}
		var typ string
		if err := json.Unmarshal(obj["type"], &typ); err != nil || typ == "" {
			return "", errs.New(errs.KindUsage, "authorization details entry %d has no \"type\" string (RFC 9396 §2)", i)
		}
		for _, field := range rarStringArrays {
			v, ok := obj[field]
			if !ok {
				continue
			}
			if !stringArray(v) {
				return "", errs.New(errs.KindUsage, "authorization details entry %d: %q must be an array of non-empty strings (RFC 9396 §2.2)", i, field)
			}
		}
		if v, ok := obj["identifier"]; ok {
			var id string
			if err := json.Unmarshal(v, &id); err != nil {
				return "", errs.New(errs.KindUsage, "authorization details entry %d: \"identifier\" must be a string (RFC 9396 §2.2)", i)
			}
		}
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return "", errs.New(errs.KindUsage, "the authorization details are not valid JSON: %s", jsonProblem(err))
	}
	return out.String(), nil
}

// stringArray tells whether raw is a JSON array of non-empty strings; a
// null member would decode as "" and slip through a []string.
func stringArray(raw json.RawMessage) bool {
	var members []json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return false
	}
	for _, m := range members {
		var s string
		if !bytes.HasPrefix(bytes.TrimSpace(m), []byte(`"`)) || json.Unmarshal(m, &s) != nil || s == "" {
			return false
		}
	}
	return true
}

// jsonProblem names a JSON error by position, without quoting the input.
func jsonProblem(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	return "malformed"
}
