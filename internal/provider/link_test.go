package provider

import (
	"net/http"
	"reflect"
	"testing"
)

func TestLinkHeadersAreReadAsRFC8288Says(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Link
	}{
		{"one next link", []string{`<https://a.example/x?after=1>; rel="next"`},
			[]Link{{Target: "https://a.example/x?after=1", Rel: []string{"next"}, Params: map[string]string{}}}},
		{"a token rel in capitals and a second value", []string{`</p?page=2>;REL=Next, </p?page=9>; rel=last`},
			[]Link{{Target: "/p?page=2", Rel: []string{"next"}, Params: map[string]string{}}, {Target: "/p?page=9", Rel: []string{"last"}, Params: map[string]string{}}}},
		{"commas inside the URL and inside a quoted title", []string{`</p?a=1,2>; rel="next prev"; title="x, \"y\""`},
			[]Link{{Target: "/p?a=1,2", Rel: []string{"next", "prev"}, Params: map[string]string{"title": `x, "y"`}}}},
		{"only the first rel counts", []string{`</p>; rel=prev; rel=next`},
			[]Link{{Target: "/p", Rel: []string{"prev"}, Params: map[string]string{}}}},
		{"a malformed value does not hide the next one", []string{`/nobrackets; rel=next, </ok>; rel=next`},
			[]Link{{Target: "/ok", Rel: []string{"next"}, Params: map[string]string{}}}},
		{"a target with a space is refused", []string{`</a b>; rel=next`}, nil},
		{"an unterminated quote ends the value", []string{`</a>; rel="next`}, nil},
		{"several header fields", []string{`</a>; rel=self`, `</b>; rel=next`},
			[]Link{{Target: "/a", Rel: []string{"self"}, Params: map[string]string{}}, {Target: "/b", Rel: []string{"next"}, Params: map[string]string{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseLinks(tt.values...); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestNextLinkFindsTheNextRelationAmongOthers(t *testing.T) {
	h := http.Header{"Link": {`<https://a/x?p=1>; rel="self", <https://a/x?p=2>; rel="next"`}}
	if got, ok := NextLink(h); !ok || got != "https://a/x?p=2" {
		t.Fatalf("got %q %v", got, ok)
	}
	if _, ok := NextLink(http.Header{"Link": {`<https://a/x?p=1>; rel="self"`}}); ok {
		t.Fatal("a self link was taken for a next link")
	}
}

// FuzzParseLinks checks that the parser never panics, that what it reads
// is well formed, and that a link it formats reads back the same.
func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{`<https://a/x?after=1>; rel="next"`, `</p?a=1,2>; rel="next prev"; title="x, \"y\""`, `<a>;rel=next,<b>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range ParseLinks(s) {
			if l.Params == nil {
				t.Fatalf("nil params for %q", s)
			}
			back := ParseLinks(l.String())
			if len(back) != 1 || back[0].Target != l.Target || len(back[0].Rel) != len(l.Rel) || !reflect.DeepEqual(back[0].Params, l.Params) {
				t.Fatalf("%q parsed as %#v, formatted %q, read back %#v", s, l, l.String(), back)
			}
			for i := range l.Rel {
				if back[0].Rel[i] != l.Rel[i] {
					t.Fatalf("rel %q read back as %q", l.Rel, back[0].Rel)
				}
			}
		}
	})
}
