package jose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Form is the compact serialisation a string appears to be in.
type Form int

const (
	// FormNone is anything that is not a compact JWS or JWE.
	FormNone Form = iota
	// FormJWS is a signed token: three parts (RFC 7515 §7.1).
	FormJWS
	// FormJWE is an encrypted token: five parts (RFC 7516 §7.1).
	FormJWE
)

func (f Form) String() string {
	switch f {
	case FormJWS:
		return "JWS"
	case FormJWE:
		return "JWE"
	default:
		return "none"
	}
}

// Classify reports whether s (surrounding white space ignored) is a compact
// JWS or JWE: the right number of base64url parts and a protected header that
// is a JSON object with an "alg" (and, for a JWE, an "enc"). It looks at the
// header only, so a FormJWS string may still fail Decode if its payload is not
// a JSON object.
func Classify(s string) Form {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 && len(parts) != 5 {
		return FormNone
	}
	for _, p := range parts {
		if !isBase64URL(p) {
			return FormNone
		}
	}
	header, err := decodeObject(parts[0])
	if err != nil {
		return FormNone
	}
	if _, ok := header["alg"].(string); !ok {
		return FormNone
	}
	if len(parts) == 3 {
		if parts[1] == "" {
			return FormNone
		}
		return FormJWS
	}
	if _, ok := header["enc"].(string); !ok {
		return FormNone
	}
	return FormJWE
}

// LooksLikeJWT reports whether s is a compact JWS or JWE; see Classify.
func LooksLikeJWT(s string) bool { return Classify(s) != FormNone }

// Decoded is a token taken apart without any verification. Nothing in it can
// be trusted; it exists so `token inspect` can show any token.
type Decoded struct {
	// Header is the protected header. Numbers are json.Number, so large
	// values print as they were sent.
	Header map[string]any
	// Claims is the payload of a JWS; nil for a JWE. Numbers are json.Number.
	Claims map[string]any
	// Signature is the decoded signature; empty for an unsecured JWT.
	Signature []byte
	// Raw is the token as decoded, surrounding white space removed.
	Raw string
	// Encrypted is set for a JWE, whose claims cannot be read without the key.
	Encrypted bool
}

// Decode takes a compact JWT apart without verifying it. White space around
// the token is ignored.
//
// For a JWE it returns the readable header with Encrypted set, together with
// an error whose Reason is ErrEncrypted. Every other failure is a *TokenError
// with Reason ErrMalformed; no error message quotes the token.
func Decode(token string) (*Decoded, error) {
	raw := strings.TrimSpace(token)
	if raw == "" {
		return nil, tokenErr(ErrMalformed, "token is empty")
	}
	parts := strings.Split(raw, ".")
	switch len(parts) {
	case 3:
	case 5:
		header, err := decodeObject(parts[0])
		if err != nil {
			return nil, tokenErr(ErrMalformed, "token header: "+err.Error())
		}
		return &Decoded{Header: header, Raw: raw, Encrypted: true},
			tokenErr(ErrEncrypted, "encrypted token: cannot be decoded without the key")
	default:
		return nil, tokenErr(ErrMalformed, fmt.Sprintf(
			"token has %d dot-separated parts; a signed JWT has 3 and an encrypted one 5", len(parts)))
	}

	header, err := decodeObject(parts[0])
	if err != nil {
		return nil, tokenErr(ErrMalformed, "token header: "+err.Error())
	}
	claims, err := decodeObject(parts[1])
	if err != nil {
		return nil, tokenErr(ErrMalformed, "token payload: "+err.Error())
	}
	sig, err := decodeSegment(parts[2])
	if err != nil {
		return nil, tokenErr(ErrMalformed, "token signature: "+err.Error())
	}
	return &Decoded{Header: header, Claims: claims, Signature: sig, Raw: raw}, nil
}

// decodeSegment decodes one base64url part. RFC 7515 §2 forbids padding, but
// some encoders add it; Decode is for looking at tokens, so it tolerates that.
// Verification goes through go-jose, which does not.
func decodeSegment(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("not base64url (bad byte at offset %d)", int64(ce))
		}
		return nil, errors.New("not base64url")
	}
	return b, nil
}

func decodeObject(s string) (map[string]any, error) {
	b, err := decodeSegment(s)
	if err != nil {
		return nil, err
	}
	return parseObject(b)
}

// parseObject parses a JSON object. Its errors name an offset, never the
// offending bytes, because those bytes may be part of a secret.
func parseObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not a single JSON value (data after the end)")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON (syntax error at offset %d)", se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("not valid JSON (unexpected end)")
	}
	return errors.New("not valid JSON")
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
