package jose

import (
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	gojose "github.com/go-jose/go-jose/v4"
)

func writeKeyFile(t *testing.T, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
	return path
}

func pemBlock(t *testing.T, typ string, der []byte, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func privateJWK(t *testing.T, key any, kid, alg string) []byte {
	t.Helper()
	b, err := json.Marshal(gojose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func thumbprint(t *testing.T, pub any) string {
	t.Helper()
	k := gojose.JSONWebKey{Key: pub}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func TestLoadSigningKeyReadsEveryFormat(t *testing.T) {
	rsaKey := newRSAKey(t)
	p256 := newECKey(t, elliptic.P256())
	p384 := newECKey(t, elliptic.P384())
	p521 := newECKey(t, elliptic.P521())
	edKey := newEdKey(t)

	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		return pemBlock(t, "PRIVATE KEY", der, err)
	}
	sec1 := func(k any) []byte {
		der, err := x509.MarshalECPrivateKey(p256)
		return pemBlock(t, "EC PRIVATE KEY", der, err)
	}
	ecParams := []byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n")
	set, _ := json.Marshal(map[string]any{"keys": []json.RawMessage{privateJWK(t, p256, "in-a-set", "")}})

	tests := []struct {
		name    string
		data    []byte
		wantAlg string
		wantKid string
		pub     any
	}{
		{"a PKCS#8 RSA key signs RS256", pkcs8(rsaKey), "RS256", thumbprint(t, &rsaKey.PublicKey), &rsaKey.PublicKey},
		{"a PKCS#1 RSA key signs RS256", pemBlock(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil), "RS256", thumbprint(t, &rsaKey.PublicKey), &rsaKey.PublicKey},
		{"a SEC1 P-256 key signs ES256", sec1(p256), "ES256", thumbprint(t, &p256.PublicKey), &p256.PublicKey},
		{"a SEC1 key after EC PARAMETERS is found", append(ecParams, sec1(p256)...), "ES256", thumbprint(t, &p256.PublicKey), &p256.PublicKey},
		{"a PKCS#8 P-384 key signs ES384", pkcs8(p384), "ES384", thumbprint(t, &p384.PublicKey), &p384.PublicKey},
		{"a PKCS#8 P-521 key signs ES512", pkcs8(p521), "ES512", thumbprint(t, &p521.PublicKey), &p521.PublicKey},
		{"a PKCS#8 Ed25519 key signs EdDSA", pkcs8(edKey), "EdDSA", thumbprint(t, edKey.Public()), edKey.Public()},
		{"an RSA JWK keeps its kid and alg", privateJWK(t, rsaKey, "client-key-1", "PS256"), "PS256", "client-key-1", &rsaKey.PublicKey},
		{"an EC JWK without kid gets its thumbprint", privateJWK(t, p384, "", ""), "ES384", thumbprint(t, &p384.PublicKey), &p384.PublicKey},
		{"an Ed25519 JWK signs EdDSA", privateJWK(t, edKey, "ed", ""), "EdDSA", "ed", edKey.Public()},
		{"a JWK Set with one key is read", set, "ES256", "in-a-set", &p256.PublicKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeKeyFile(t, "key", tc.data, 0o600)
			s, warn, err := LoadSigningKey(path)
			if err != nil {
				t.Fatalf("LoadSigningKey: %v", err)
			}
			if warn != nil {
				t.Errorf("unexpected warning for a 0600 file: %s", warn)
			}
			if s.Alg() != tc.wantAlg || s.KeyID() != tc.wantKid {
				t.Errorf("alg, kid = %s, %s; want %s, %s", s.Alg(), s.KeyID(), tc.wantAlg, tc.wantKid)
			}
			tok, err := s.Sign(map[string]any{"sub": "x"})
			if err != nil {
				t.Fatal(err)
			}
			jws, err := gojose.ParseSignedCompact(tok, []gojose.SignatureAlgorithm{gojose.SignatureAlgorithm(tc.wantAlg)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jws.Verify(tc.pub); err != nil {
				t.Errorf("token does not verify with the file's public key: %v", err)
			}
			if got := jws.Signatures[0].Header.KeyID; got != tc.wantKid {
				t.Errorf("header kid = %q, want %q", got, tc.wantKid)
			}
		})
	}
}

func TestLoadSigningKeyWarnsAboutReadableFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not describe Windows ACLs")
	}
	key := newECKey(t, elliptic.P256())
	der, err := x509.MarshalPKCS8PrivateKey(key)
	data := pemBlock(t, "PRIVATE KEY", der, err)
	for _, tc := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o400, false}, {0o640, true}, {0o644, true}, {0o604, true}} {
		t.Run(fmt.Sprintf("mode %04o", tc.mode), func(t *testing.T) {
			path := writeKeyFile(t, "key.pem", data, tc.mode)
			s, warn, err := LoadSigningKey(path)
			if err != nil || s == nil {
				t.Fatalf("a readable key must still load: %v", err)
			}
			if (warn != nil) != tc.warn {
				t.Fatalf("warning = %v, want one: %v", warn, tc.warn)
			}
			if warn != nil && (warn.Mode.Perm() != tc.mode || !strings.Contains(warn.String(), "chmod 600")) {
				t.Errorf("warning = %+v %q", warn, warn.String())
			}
		})
	}
}

func TestLoadSigningKeyRefusesUnusableKeysWithoutShowingThem(t *testing.T) {
	rsaKey := newRSAKey(t)
	p256 := newECKey(t, elliptic.P256())
	pubDER, err := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	dValue := base64.RawURLEncoding.EncodeToString(p256.D.Bytes())
	pkcs8B64 := base64.StdEncoding.EncodeToString(pkcs8)
	corruptPEM := "-----BEGIN PRIVATE KEY-----\n" + pkcs8B64[:40] + "AAAA" + pkcs8B64[44:] + "\n-----END PRIVATE KEY-----\n"
	twoKeys := append(pemBlock(t, "PRIVATE KEY", pkcs8, nil), pemBlock(t, "PRIVATE KEY", pkcs8, nil)...)
	publicJWK, _ := json.Marshal(gojose.JSONWebKey{Key: &p256.PublicKey})

	tests := []struct {
		name string
		data string
	}{
		{"a public key PEM", string(pemBlock(t, "PUBLIC KEY", pubDER, nil))},
		{"an encrypted PKCS#8 PEM", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"},
		{"a legacy encrypted PEM", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMIIB\n-----END RSA PRIVATE KEY-----\n"},
		{"a corrupt PKCS#8 body", corruptPEM},
		{"two private keys", string(twoKeys)},
		{"a public JWK", string(publicJWK)},
		{"a JWK cut short in its private member", `{"kty":"EC","crv":"P-256","d":"` + dValue},
		{"a JWK whose private member is the wrong size", `{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"` + dValue + `"}`},
		{"a JWK with an alg its key cannot do", string(privateJWK(t, rsaKey, "", "ES256"))},
		{"a JWK with use enc", `{"use":"enc",` + string(privateJWK(t, p256, "", ""))[1:]},
		{"a JWK Set with two keys", `{"keys":[` + string(privateJWK(t, p256, "a", "")) + "," + string(privateJWK(t, p256, "b", "")) + "]}"},
		{"an oct JWK too short for HS256", `{"kty":"oct","k":"c2hvcnQ"}`},
		{"text that is no key at all", "hunter2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeKeyFile(t, "key", []byte(tc.data), 0o600)
			_, _, err := LoadSigningKey(path)
			if err == nil {
				t.Fatal("LoadSigningKey accepted it")
			}
			msg := err.Error()
			for _, secret := range []string{dValue, pkcs8B64[:20], "hunter2", "MIIB"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error shows key material %q: %s", secret, msg)
				}
			}
			if !strings.Contains(msg, path) {
				t.Errorf("error does not name the file: %s", msg)
			}
		})
	}
}

func TestLoadSigningKeyReportsAMissingFile(t *testing.T) {
	_, _, err := LoadSigningKey(filepath.Join(t.TempDir(), "absent.pem"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error = %v, want it to wrap os.ErrNotExist", err)
	}
}

func TestAnOctJWKBecomesAnHMACSigner(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef0123456789abcdef")
	data, _ := json.Marshal(gojose.JSONWebKey{Key: secret, KeyID: "shared", Algorithm: "HS384"})
	s, err := ParseSigningKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if s.Alg() != "HS384" || s.KeyID() != "shared" {
		t.Errorf("alg, kid = %s, %s", s.Alg(), s.KeyID())
	}
}

func TestNewSecretSignerChecksAlgAndLength(t *testing.T) {
	long := []byte(strings.Repeat("k", 64))
	tests := []struct {
		name    string
		secret  []byte
		alg     string
		wantAlg string
		wantErr bool
	}{
		{"no alg means HS256", long[:32], "", "HS256", false},
		{"HS512 with 64 bytes", long, "HS512", "HS512", false},
		{"HS256 with 31 bytes", long[:31], "HS256", "", true},
		{"HS384 with 32 bytes", long[:32], "HS384", "", true},
		{"an asymmetric alg", long, "RS256", "", true},
		{"alg none", long, "none", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSecretSigner(tc.secret, tc.alg)
			if tc.wantErr {
				if err == nil {
					t.Fatal("accepted")
				}
				if strings.Contains(err.Error(), string(tc.secret)) {
					t.Errorf("error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Alg() != tc.wantAlg || s.KeyID() != "" {
				t.Errorf("alg, kid = %s, %q", s.Alg(), s.KeyID())
			}
		})
	}
}

func TestSecretSignerKeepsItsOwnCopyOfTheSecret(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	s, err := NewSecretSigner(secret, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	orig := strings.Repeat("s", 32)
	for i := range secret {
		secret[i] = 0 // callers wipe their buffers
	}
	jws, err := gojose.ParseSignedCompact(tok, []gojose.SignatureAlgorithm{gojose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify([]byte(orig)); err != nil {
		t.Fatal(err)
	}
	tok2, err := s.Sign(map[string]any{"a": 1})
	if err != nil || tok2 != tok {
		t.Errorf("signing changed after the caller's buffer was wiped: %v", err)
	}
}

func TestPrintingASignerNeverShowsItsKey(t *testing.T) {
	secret := "super-secret-super-secret-super-secret"
	s, err := NewSecretSigner([]byte(secret), "")
	if err != nil {
		t.Fatal(err)
	}
	key := newECKey(t, elliptic.P256())
	es, err := ParseSigningKey(privateJWK(t, key, "ec", ""))
	if err != nil {
		t.Fatal(err)
	}
	d := key.D.String()
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{s, *s, es, *es} {
			out := fmt.Sprintf(format, v)
			if strings.Contains(out, secret) || strings.Contains(out, "super") || strings.Contains(out, d) {
				t.Errorf("%s shows key material: %s", format, out)
			}
		}
	}
}

func TestPublicJWKSHoldsOnlyThePublicKey(t *testing.T) {
	key := newRSAKey(t)
	s, err := ParseSigningKey(privateJWK(t, key, "reg-1", "PS256"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := PublicJWKS(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.Keys) != 1 {
		t.Fatalf("not a one-key JWKS: %v %s", err, out)
	}
	k := doc.Keys[0]
	for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := k[member]; ok {
			t.Errorf("public JWKS carries private member %q", member)
		}
	}
	want := map[string]any{"kty": "RSA", "kid": "reg-1", "alg": "PS256", "use": "sig"}
	for name, v := range want {
		if k[name] != v {
			t.Errorf("%s = %v, want %v", name, k[name], v)
		}
	}

	secretSigner, err := NewSecretSigner([]byte(strings.Repeat("x", 32)), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PublicJWKS(secretSigner); err == nil {
		t.Error("a shared-secret signer published a JWKS")
	}
}
