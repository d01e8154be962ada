package fakekit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Any, as a required query or header value, accepts any non-empty value.
// A header value ending in "*" accepts any value with that prefix
// ("Bearer *").
const Any = "*"

// Route is one operation of a vendor API, as its documentation gives it:
// the method and path, the query parameters and headers it takes, the body
// it accepts, and what it answers. A fake is a table of routes.
type Route struct {
	// Pattern is a Go 1.22 ServeMux pattern and must name the method:
	// "DELETE /api/v1/users/{uid}/sessions". Path values are read with
	// r.PathValue in Answer.
	Pattern string
	// Doc cites the vendor document the route is built from; it is quoted
	// in every contract failure of the route.
	Doc string
	// Query holds the parameters the request must carry, with their value
	// or Any; OptionalQuery those it may carry. Any other is a violation:
	// a real API may ignore or reject it silently.
	Query         map[string]string
	OptionalQuery []string
	// Header holds headers the request must carry (exact, Any or prefix*).
	Header map[string]string
	// Body is the schema of the JSON body; nil means the request has none.
	Body *Schema
	// ContentType is the media type the body must have; empty is
	// application/json. A JSON dialect (application/x-amz-json-1.1) is
	// decoded as JSON; application/x-www-form-urlencoded is decoded into an
	// object of strings (a repeated field is a violation) and checked
	// against Body like JSON; text/xml (XMLContentType) is decoded by
	// DecodeXML and checked the same way.
	ContentType string
	// Answer answers a request that kept the contract. body is the decoded
	// JSON body (numbers as json.Number), nil without one.
	Answer func(r *http.Request, body any) Answer
}

// Answer is what a route sends back.
type Answer struct {
	Status int
	Header http.Header
	// JSON is encoded as the body, unless Text is set.
	JSON        any
	Text        string
	ContentType string
}

// Schema is the subset of JSON Schema a contract needs.
type Schema struct {
	// Type is object, array, string, integer, number, boolean or null.
	Type       string
	Properties map[string]*Schema
	Required   []string
	// AllowExtra lets an object carry members Properties does not name.
	AllowExtra bool
	Items      *Schema
	// Enum lists the allowed values of a string.
	Enum []string
	// Nullable also accepts null.
	Nullable bool
}

// Check reports the first way v breaks the schema; path names where.
func (s *Schema) Check(v any, path string) error {
	if v == nil {
		if s.Nullable || s.Type == "null" {
			return nil
		}
		return fmt.Errorf("%s is null, want %s", path, s.Type)
	}
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is %s, want an object", path, kindOf(v))
		}
		for _, k := range s.Required {
			if _, ok := m[k]; !ok {
				return fmt.Errorf("%s lacks the required member %q", path, k)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := s.Properties[k]
			if !ok {
				if !s.AllowExtra {
					return fmt.Errorf("%s has the member %q the contract does not name", path, k)
				}
				continue
			}
			if err := sub.Check(m[k], path+"."+k); err != nil {
				return err
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s is %s, want an array", path, kindOf(v))
		}
		for i, e := range a {
			if s.Items != nil {
				if err := s.Items.Check(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s is %s, want a string", path, kindOf(v))
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			return fmt.Errorf("%s is %q, want one of %q", path, str, s.Enum)
		}
	case "integer":
		if _, ok := Int(v); !ok {
			return fmt.Errorf("%s is %s, want an integer", path, kindOf(v))
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			if _, ok := v.(float64); !ok {
				return fmt.Errorf("%s is %s, want a number", path, kindOf(v))
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s is %s, want a boolean", path, kindOf(v))
		}
	default:
		return fmt.Errorf("%s: the schema has an unknown type %q", path, s.Type)
	}
	return nil
}

func kindOf(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return fmt.Sprintf("the string %q", x)
	case json.Number, float64:
		return fmt.Sprintf("the number %v", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	}
	return fmt.Sprintf("%T", v)
}

// Mux serves a table of routes and checks every request against its
// route's contract. A request no route matches, or one that breaks its
// route's contract, fails the test with a message naming the request, what
// was wrong and the vendor document, is recorded as a violation, and is
// answered 418 in the OAuth error shape so the adapter fails loudly too.
// Every request is recorded, and Faults, when set, are served first.
type Mux struct {
	Recorder[Request]
	Faults *Faults

	t   testing.TB
	mux *http.ServeMux
}

// NewMux builds a mux over routes; a malformed route fails the test.
func NewMux(t testing.TB, routes ...Route) *Mux {
	t.Helper()
	m := &Mux{t: t, mux: http.NewServeMux()}
	for _, rt := range routes {
		method, _, ok := strings.Cut(rt.Pattern, " ")
		if !ok || method == "" || strings.HasPrefix(method, "/") {
			t.Fatalf("fakekit: route %q names no method", rt.Pattern)
		}
		if rt.Answer == nil {
			t.Fatalf("fakekit: route %q has no answer", rt.Pattern)
		}
		m.mux.HandleFunc(rt.Pattern, m.serve(rt))
	}
	m.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		m.Record(Capture(r))
		m.violate(w, "%s %s matches no route of the contract", r.Method, r.URL.Path)
	})
	return m
}

func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.Faults != nil && m.Faults.Serve(w, r) {
		m.Record(Capture(r))
		return
	}
	m.mux.ServeHTTP(w, r)
}

func (m *Mux) violate(w http.ResponseWriter, format string, args ...any) {
	msg := m.Violate(format, args...)
	m.t.Errorf("fakekit: contract violation: %s", msg)
	WriteJSON(w, http.StatusTeapot, "", map[string]string{"error": "contract_violation", "error_description": msg})
}

func (m *Mux) serve(rt Route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := Capture(r)
		m.Record(req)
		where := rt.Pattern
		if rt.Doc != "" {
			where += "; " + rt.Doc
		}
		if problem := checkRequest(rt, r, req); problem != "" {
			m.violate(w, "%s: %s (route %s)", req, problem, where)
			return
		}
		var body any
		if len(bytes.TrimSpace(req.Body)) > 0 {
			body, _ = decodeBody(rt, req.Body) // checked by checkRequest
		}
		a := rt.Answer(r, body)
		for k, vs := range a.Header {
			w.Header()[k] = vs
		}
		if a.Status == 0 {
			a.Status = http.StatusOK
		}
		switch {
		case a.Text != "":
			ct := a.ContentType
			if ct == "" {
				ct = "text/plain; charset=utf-8"
			}
			WriteText(w, a.Status, ct, a.Text)
		case a.JSON != nil:
			WriteJSON(w, a.Status, a.ContentType, a.JSON)
		default:
			w.WriteHeader(a.Status)
		}
	}
}

// checkRequest returns what is wrong with a request for rt, or "".
func checkRequest(rt Route, r *http.Request, req Request) string {
	for k, want := range rt.Query {
		got, ok := req.Query[k]
		switch {
		case !ok || len(got) == 0 || got[0] == "":
			return fmt.Sprintf("the query parameter %q is missing", k)
		case len(got) > 1:
			return fmt.Sprintf("the query parameter %q is repeated", k)
		case want != Any && got[0] != want:
			return fmt.Sprintf("the query parameter %q is %q, want %q", k, got[0], want)
		}
	}
	keys := make([]string, 0, len(req.Query))
	for k := range req.Query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := rt.Query[k]; !ok && !slices.Contains(rt.OptionalQuery, k) {
			return fmt.Sprintf("the query parameter %q is not in the contract", k)
		}
	}
	for k, want := range rt.Header {
		got := r.Header.Get(k)
		switch {
		case got == "":
			return fmt.Sprintf("the header %s is missing", k)
		case want == Any:
		case strings.HasSuffix(want, "*") && strings.HasPrefix(got, strings.TrimSuffix(want, "*")):
		case got != want:
			return fmt.Sprintf("the header %s does not have the value the contract wants", k)
		}
	}
	hasBody := len(bytes.TrimSpace(req.Body)) > 0
	if rt.Body == nil {
		if hasBody {
			return "the request has a body the contract does not take"
		}
		return ""
	}
	if !hasBody {
		return "the request has no body"
	}
	want := rt.ContentType
	if want == "" {
		want = "application/json"
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
		return fmt.Sprintf("the body is %q, want %s", ct, want)
	}
	body, err := decodeBody(rt, req.Body)
	if err != nil {
		return err.Error()
	}
	if err := rt.Body.Check(body, "body"); err != nil {
		return err.Error()
	}
	return ""
}

// decodeBody reads a request body as its route's media type says.
func decodeBody(rt Route, raw []byte) (any, error) {
	if rt.ContentType == XMLContentType {
		return DecodeXML(raw)
	}
	if rt.ContentType == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("the body is not a form: %v", err)
		}
		out := map[string]any{}
		for k, vs := range form {
			if len(vs) > 1 {
				return nil, fmt.Errorf("the form field %q is repeated", k)
			}
			out[k] = vs[0]
		}
		return out, nil
	}
	var body any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("the body is not JSON: %v", err)
	}
	return body, nil
}
