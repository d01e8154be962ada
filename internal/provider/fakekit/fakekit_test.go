package fakekit

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func request(method, path string) *http.Request {
	return httptest.NewRequest(method, "http://fake"+path, nil)
}

// faults answers every fault with {"fault": "<name>"} and a 502 with a page.
func faults(now time.Time) *Faults {
	return &Faults{
		Body: func(h http.Header, f Fault) any {
			if f == HTMLPage {
				return Page{ContentType: "text/html", HTML: "<html>proxy</html>"}
			}
			if f == Unauthorized {
				h.Set("WWW-Authenticate", "Basic")
			}
			return map[string]string{"fault": f.String()}
		},
		JSON:       func(w http.ResponseWriter, status int, v any) { WriteJSON(w, status, "application/vendor+json", v) },
		RetryAfter: "7",
		RateLimit:  RateLimitHeaders{Limit: "X-Limit", Remaining: "X-Left", Reset: "X-Reset"},
		Now:        func() time.Time { return now },
	}
}

func TestAFaultIsServedAsOftenAsScheduled(t *testing.T) {
	tests := []struct {
		name  string
		times int
		want  []bool // whether each of five requests got the fault
	}{
		{"zero means once", 0, []bool{true, false, false, false, false}},
		{"a count", 2, []bool{true, true, false, false, false}},
		{"negative means every one", -1, []bool{true, true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := faults(time.Now())
			f.Inject(Injection{Fault: ServerError, Times: tt.times})
			var got []bool
			for range tt.want {
				_, ok := f.Take(request(http.MethodGet, "/x"))
				got = append(got, ok)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("faults served %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAFaultHitsOnlyTheRequestsItNames(t *testing.T) {
	tests := []struct {
		name string
		in   Injection
		req  *http.Request
		hit  bool
	}{
		{"any request", Injection{}, request(http.MethodPut, "/a/b"), true},
		{"the method", Injection{Method: http.MethodGet}, request(http.MethodPut, "/a"), false},
		{"the whole path", Injection{Path: "/a"}, request(http.MethodGet, "/a/b"), false},
		{"the whole path, matching", Injection{Path: "/a/b"}, request(http.MethodGet, "/a/b"), true},
		{"a path prefix", Injection{PathPrefix: "/a/"}, request(http.MethodGet, "/a/b"), true},
		{"another prefix", Injection{PathPrefix: "/b/"}, request(http.MethodGet, "/a/b"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := faults(time.Now())
			tt.in.Fault = Forbidden
			f.Inject(tt.in)
			if _, ok := f.Take(tt.req); ok != tt.hit {
				t.Fatalf("hit = %v, want %v", ok, tt.hit)
			}
		})
	}
}

func TestFaultsAreTakenInTheOrderScheduled(t *testing.T) {
	f := faults(time.Now())
	f.Inject(Injection{Method: http.MethodPost, Fault: Unauthorized})
	f.Inject(Injection{Fault: Forbidden})
	f.Inject(Injection{Fault: ServerError})
	var got []Fault
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPost, http.MethodPost} {
		in, _ := f.Take(request(m, "/"))
		got = append(got, in.Fault)
	}
	if want := []Fault{Forbidden, Unauthorized, ServerError, 0}; !slices.Equal(got, want) {
		t.Fatalf("faults %v, want %v", got, want)
	}
}

func TestAnswersCarryTheStatusHeadersAndTheVendorsBody(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		fault       Fault
		resetIn     time.Duration
		status      int
		retryAfter  string
		reset       string
		contentType string
		body        string
	}{
		{Unauthorized, 0, 401, "", "", "application/vendor+json", `{"fault":"401"}`},
		{Forbidden, 0, 403, "", "", "application/vendor+json", `{"fault":"403"}`},
		{RateLimited, 0, 429, "7", strconv.FormatInt(now.Add(time.Minute).Unix(), 10), "application/vendor+json", `{"fault":"429"}`},
		{RateLimited, time.Hour, 429, "7", strconv.FormatInt(now.Add(time.Hour).Unix(), 10), "application/vendor+json", `{"fault":"429"}`},
		{ServerError, 0, 500, "", "", "application/vendor+json", `{"fault":"500"}`},
		{Unavailable, 0, 503, "7", "", "application/vendor+json", `{"fault":"503"}`},
		{HTMLPage, 0, 502, "", "", "text/html", "<html>proxy</html>"},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			w := httptest.NewRecorder()
			faults(now).Answer(w, Injection{Fault: tt.fault, ResetIn: tt.resetIn})
			h := w.Result().Header
			if w.Code != tt.status || h.Get("Retry-After") != tt.retryAfter || h.Get("X-Reset") != tt.reset || h.Get("Content-Type") != tt.contentType {
				t.Fatalf("status %d, headers %v", w.Code, h)
			}
			if tt.fault == RateLimited && h.Get("X-Left") != "0" {
				t.Fatalf("a 429 leaves %q requests", h.Get("X-Left"))
			}
			if got := strings.TrimSpace(w.Body.String()); got != tt.body {
				t.Fatalf("body %s, want %s", got, tt.body)
			}
			if (tt.fault == Unauthorized) != (h.Get("WWW-Authenticate") != "") {
				t.Fatalf("the vendor's header: %v", h)
			}
		})
	}
}

func TestServeAnswersOnlyWhenAFaultIsScheduled(t *testing.T) {
	f := faults(time.Now())
	w := httptest.NewRecorder()
	if f.Serve(w, request(http.MethodGet, "/")) || w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("answered %d %q with nothing scheduled", w.Code, w.Body)
	}
	f.Inject(Injection{Fault: Forbidden})
	if !f.Serve(w, request(http.MethodGet, "/")) || w.Code != http.StatusForbidden {
		t.Fatalf("answered %d", w.Code)
	}
}

func TestTheRateLimitWindowIsWrittenUnderTheVendorsNames(t *testing.T) {
	h := http.Header{}
	reset := time.Unix(1700000000, 0)
	RateLimitHeaders{Limit: "X-Rate-Limit-Limit", Remaining: "X-Rate-Limit-Remaining", Reset: "X-Rate-Limit-Reset"}.Set(h, 600, 12, reset)
	want := http.Header{"X-Rate-Limit-Limit": {"600"}, "X-Rate-Limit-Remaining": {"12"}, "X-Rate-Limit-Reset": {"1700000000"}}
	if !headersEqual(h, want) {
		t.Fatalf("headers %v", h)
	}
	h = http.Header{}
	RateLimitHeaders{}.Set(h, 600, 12, reset)
	if len(h) != 0 {
		t.Fatalf("a vendor without rate-limit headers got %v", h)
	}
}

func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestTheServerListensOnLoopbackOnly(t *testing.T) {
	l := Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	u, err := url.Parse(l.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Fatalf("listening on %s", u.Host)
	}
	resp, err := http.Get(l.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	l.Close()
	if _, err := http.Get(l.URL); err == nil {
		t.Fatal("the server still answers after Close")
	}
}

func TestARecorderHandsOutCopies(t *testing.T) {
	var rec Recorder[Request]
	r := httptest.NewRequest(http.MethodPost, "http://fake/a?b=c", strings.NewReader(`{"x":1}`))
	r.Header.Set("Authorization", "Bearer t")
	if n := rec.Record(Capture(r)); n != 1 {
		t.Fatalf("count %d", n)
	}
	got := rec.Requests()
	if len(got) != 1 || got[0].String() != "POST /a?b=c" || string(got[0].Body) != `{"x":1}` || got[0].Authorization != "Bearer t" || got[0].Header.Get("Authorization") != "Bearer t" {
		t.Fatalf("requests %+v", got)
	}
	got[0].Method = "changed"
	if rec.Requests()[0].Method != http.MethodPost {
		t.Fatal("a caller changed the record")
	}
	if msg := rec.Violate("unexpected %s", "thing"); msg != "unexpected thing" || !slices.Equal(rec.Violations(), []string{"unexpected thing"}) {
		t.Fatalf("violation %q, recorded %q", msg, rec.Violations())
	}
	rec.ClearRequests()
	if len(rec.Requests()) != 0 || len(rec.Violations()) != 1 {
		t.Fatal("clearing the requests must keep the violations")
	}
}

func TestARequestWithoutAQueryPrintsNoQuestionMark(t *testing.T) {
	if got := (Request{Method: "GET", Path: "/a", Query: url.Values{}}).String(); got != "GET /a" {
		t.Fatalf("got %q", got)
	}
}

func TestJSONObjectsKeepTheirNumbersExactly(t *testing.T) {
	m, err := DecodeObject([]byte(`{"big":9007199254740993,"f":1.5,"o":{"n":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := Int(m["big"]); !ok || n != 9007199254740993 {
		t.Fatalf("big = %v", m["big"])
	}
	if _, ok := Int(m["f"]); ok {
		t.Fatal("1.5 read as an integer")
	}
	c := Clone(m)
	c["o"].(map[string]any)["n"] = "changed"
	if m["o"].(map[string]any)["n"] == "changed" {
		t.Fatal("the clone shares a member with the original")
	}
	b, _ := json.Marshal(c["big"])
	if string(b) != "9007199254740993" {
		t.Fatalf("re-encoded as %s", b)
	}
	for _, bad := range []string{`null`, `[1]`, `{`} {
		if _, err := DecodeObject([]byte(bad)); err == nil {
			t.Errorf("%s decoded as an object", bad)
		}
	}
	if n, ok := Int(float64(3)); !ok || n != 3 {
		t.Fatal("a float64 integer was refused")
	}
}

func TestExtraQueryNamesAParameterOutsideTheContract(t *testing.T) {
	r := request(http.MethodGet, "/x?limit=1&after=2")
	if k, extra := ExtraQuery(r, "limit", "after"); extra {
		t.Fatalf("%q reported", k)
	}
	if k, extra := ExtraQuery(r, "limit"); !extra || k != "after" {
		t.Fatalf("got %q %v", k, extra)
	}
}

func TestJWKMembersEncodeTheKey(t *testing.T) {
	k := NewRSAKey()
	dec := func(s string) *big.Int {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Int).SetBytes(b)
	}
	pub := PublicMembers(&k.PublicKey)
	got := rsa.PublicKey{N: dec(pub["n"].(string)), E: int(dec(pub["e"].(string)).Int64())}
	if !got.Equal(&k.PublicKey) {
		t.Fatal("n and e do not give the public key back")
	}
	priv := PrivateMembers(k)
	if len(priv) != 6 || dec(priv["d"]).Cmp(k.D) != 0 || dec(priv["qi"]).Cmp(k.Precomputed.Qinv) != 0 {
		t.Fatalf("private members %v", priv)
	}
}
