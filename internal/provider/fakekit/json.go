package fakekit

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
)

// DecodeObject decodes a JSON object, keeping numbers as json.Number so
// that what a client sent is stored and echoed digit for digit.
func DecodeObject(b []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// Clone deep-copies a JSON object, so that state a fake keeps and what it
// hands out never alias. It panics on what JSON cannot hold: fakes store
// only JSON.
func Clone(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		panic("fakekit: " + err.Error())
	}
	out, err := DecodeObject(b)
	if err != nil {
		panic("fakekit: " + err.Error())
	}
	return out
}

// Int reads a JSON integer as DecodeObject or encoding/json leave it.
func Int(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case float64:
		return int(n), n == float64(int(n))
	case int:
		return n, true
	}
	return 0, false
}

// ExtraQuery returns a query parameter of r that is not among allowed, if
// any: the fakes refuse parameters the contract does not name, since a
// real API may ignore or reject them silently.
func ExtraQuery(r *http.Request, allowed ...string) (string, bool) {
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) {
			return k, true
		}
	}
	return "", false
}
