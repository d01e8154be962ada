package oauth

import (
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

func TestAuthorizationDetailsAreValidatedAndCompacted(t *testing.T) {
	got, err := ParseAuthorizationDetails([]byte(" [ {\"type\": \"payment_initiation\", \"actions\": [\"initiate\"], \"identifier\": \"x\"} ]\n"))
	if err != nil || got != `[{"type":"payment_initiation","actions":["initiate"],"identifier":"x"}]` {
		t.Fatalf("got %q err %v", got, err)
	}
	bad := map[string]string{
		"empty":                              "",
		"not JSON":                           `[{"type":`,
		"an object, not an array":            `{"type":"a"}`,
		"an empty array":                     `[]`,
		"a string entry":                     `["a"]`,
		"no type":                            `[{"actions":["x"]}]`,
		"an empty type":                      `[{"type":""}]`,
		"a numeric type":                     `[{"type":1}]`,
		"actions not strings":                `[{"type":"a","actions":"x"}]`,
		"locations with a number":            `[{"type":"a","locations":[1]}]`,
		"an identifier that is not a string": `[{"type":"a","identifier":{}}]`,
		"too large":                          `[{"type":"a","x":"` + strings.Repeat("y", maxAuthorizationDetails) + `"}]`,
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseAuthorizationDetails([]byte(in))
			if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), "authorization details") {
				t.Fatalf("err = %v, want a usage error naming the details", err)
			}
			if len(in) > 20 && strings.Contains(err.Error(), in) {
				t.Fatal("the error quotes the input")
			}
		})
	}
}

func TestAByteOrderMarkBeforeTheAuthorizationDetailsIsIgnored(t *testing.T) {
	got, err := ParseAuthorizationDetails([]byte("\xef\xbb\xbf[{\"type\": \"payment\"}]\r\n"))
	if err != nil || got != `[{"type":"payment"}]` {
		t.Fatalf("%q, %v", got, err)
	}
}
