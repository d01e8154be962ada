package fakekit

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
)

// NewRSAKey generates a 2048-bit RSA key. It panics on failure, which
// only a broken system random source causes.
func NewRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("fakekit: generating an RSA key: %v", err))
	}
	k.Precompute()
	return k
}

// B64 encodes an integer as a JWK member: base64url of its big-endian
// bytes, without padding (RFC 7518 §6.3).
func B64(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.Bytes()) }

// PublicMembers are an RSA JWK's public members n and e (RFC 7518 §6.3.1).
func PublicMembers(k *rsa.PublicKey) map[string]any {
	return map[string]any{"n": B64(k.N), "e": B64(big.NewInt(int64(k.E)))}
}

// PrivateMembers are an RSA JWK's private members d, p, q, dp, dq and qi
// (RFC 7518 §6.3.2), the values a client must never pass on.
func PrivateMembers(k *rsa.PrivateKey) map[string]string {
	k.Precompute()
	return map[string]string{
		"d": B64(k.D), "p": B64(k.Primes[0]), "q": B64(k.Primes[1]),
		"dp": B64(k.Precomputed.Dp), "dq": B64(k.Precomputed.Dq), "qi": B64(k.Precomputed.Qinv),
	}
}
