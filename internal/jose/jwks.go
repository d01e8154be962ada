package jose

import (
	"encoding/json"
	"errors"
	"fmt"

	gojose "github.com/go-jose/go-jose/v4"
)

// ParseJWKS parses a JWK Set document (RFC 7517 §5) served by an IdP. Keys
// that cannot be used to verify are left out rather than failing the whole
// set, because IdPs publish encryption keys and key types go-jose does not
// know beside their signing keys; skipped says which and why, so an unknown
// kid can be explained. Keys carrying private or symmetric members are
// always left out: a public JWKS has no business holding them.
func ParseJWKS(data []byte) (set *gojose.JSONWebKeySet, skipped []string, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("parse JWKS: %w", jsonError(err))
	}
	if doc.Keys == nil {
		return nil, nil, errors.New("parse JWKS: no \"keys\" member")
	}
	set = &gojose.JSONWebKeySet{}
	for i, raw := range doc.Keys {
		var head struct {
			Kid string `json:"kid"`
			Kty string `json:"kty"`
			D   any    `json:"d"`
			K   any    `json:"k"`
			P   any    `json:"p"`
			Q   any    `json:"q"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: not a JSON object", i))
			continue
		}
		name := fmt.Sprintf("key %d", i)
		if head.Kid != "" {
			name = fmt.Sprintf("key %d (kid %s)", i, head.Kid)
		}
		if head.D != nil || head.K != nil || head.P != nil || head.Q != nil {
			skipped = append(skipped, name+": holds private or symmetric key material")
			continue
		}
		var k gojose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			if errors.Is(err, gojose.ErrUnsupportedKeyType) {
				skipped = append(skipped, fmt.Sprintf("%s: unsupported key type %q", name, head.Kty))
			} else {
				skipped = append(skipped, name+": invalid")
			}
			continue
		}
		set.Keys = append(set.Keys, k)
	}
	return set, skipped, nil
}
