package jose

import (
	"crypto/elliptic"
	"encoding/json"
	"strings"
	"testing"

	gojose "github.com/go-jose/go-jose/v4"
)

func TestParseJWKSKeepsOnlyUsablePublicKeys(t *testing.T) {
	ec := newECKey(t, elliptic.P256())
	ed := newEdKey(t)
	pubEC, _ := json.Marshal(gojose.JSONWebKey{Key: &ec.PublicKey, KeyID: "ec", Use: "sig"})
	pubEd, _ := json.Marshal(gojose.JSONWebKey{Key: ed.Public(), KeyID: "ed"})
	privEC, _ := json.Marshal(gojose.JSONWebKey{Key: ec, KeyID: "leaked"})
	doc := `{"keys":[` + strings.Join([]string{
		string(pubEC),
		`{"kty":"oct","kid":"hmac","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`,
		string(privEC),
		`{"kty":"AKP-unknown","kid":"future","pub":"AAAA"}`,
		`{"kty":"EC","kid":"broken","crv":"P-256","x":"AA","y":"AA"}`,
		`"not an object"`,
		string(pubEd),
	}, ",") + `]}`

	set, skipped, err := ParseJWKS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	if got := strings.Join(kids, ","); got != "ec,ed" {
		t.Errorf("kept %s, want ec,ed", got)
	}
	want := []string{
		"key 1 (kid hmac): holds private or symmetric key material",
		"key 2 (kid leaked): holds private or symmetric key material",
		`key 3 (kid future): unsupported key type "AKP-unknown"`,
		"key 4 (kid broken): invalid",
		"key 5: not a JSON object",
	}
	if strings.Join(skipped, "\n") != strings.Join(want, "\n") {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(skipped, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(strings.Join(skipped, " "), "c2VjcmV0") {
		t.Error("skip reasons show key material")
	}
}

func TestParseJWKSRefusesDocumentsThatAreNoJWKS(t *testing.T) {
	for _, doc := range []string{``, `[]`, `{"issuer":"x"}`, `{"keys":`, `<html>`} {
		if _, _, err := ParseJWKS([]byte(doc)); err == nil {
			t.Errorf("ParseJWKS(%q) accepted it", doc)
		}
	}
}
