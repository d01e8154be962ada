package provider

import (
	"bytes"
	"encoding/json"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// DecodeExact reads a JSON answer keeping numbers as json.Number, so that
// objects an adapter reads, modifies and sends back whole (Okta rules,
// Auth0 clients) are not altered by a float round trip.
func DecodeExact(resp *httpx.Response, v any) error {
	if err := httpx.DecodeJSON(resp, new(json.RawMessage)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errs.New(errs.KindNetwork, "%s answered JSON of an unexpected shape: %v", httpx.Host(resp.URL), err)
	}
	return nil
}

// CloneJSON deep-copies a decoded JSON object, keeping numbers exact; nil
// stays nil.
func CloneJSON(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&out) != nil {
		return nil
	}
	return out
}

// SameJSON compares two decoded JSON values by their encoding (maps encode
// with sorted keys).
func SameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// JSONString is m[key] when it is a string.
func JSONString(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// JSONInt reads a JSON number, decoded exactly or not.
func JSONInt(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case float64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}

// JSONBool is v when it is a boolean.
func JSONBool(v any) bool { b, _ := v.(bool); return b }
