// Package jose is the one place idpctl handles JWTs and JOSE keys: decoding
// tokens for inspection, verifying them against an IdP's JWKS, signing client
// and user assertions (RFC 7523), and recognising JWT-shaped strings so that
// traces and errors can redact them.
//
// The package does no I/O beyond reading a key file: JWKS fetching is the
// caller's, passed in as a KeySource.
package jose
