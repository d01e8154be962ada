package jose

import "errors"

// Reasons a token is refused. Every error returned by Decode and Verify for
// a bad token is a *TokenError whose Reason is one of these, so callers such
// as `token inspect` can use errors.Is to say why.
var (
	ErrMalformed        = errors.New("malformed token")
	ErrEncrypted        = errors.New("encrypted token")
	ErrAlgNotAllowed    = errors.New("algorithm not allowed")
	ErrUnknownKID       = errors.New("unknown key id")
	ErrNoKey            = errors.New("no usable key")
	ErrKeyMismatch      = errors.New("key does not fit the token")
	ErrBadSignature     = errors.New("bad signature")
	ErrExpired          = errors.New("token expired")
	ErrNotYetValid      = errors.New("token not yet valid")
	ErrIssuedInFuture   = errors.New("token issued in the future")
	ErrIssuerMismatch   = errors.New("issuer mismatch")
	ErrAudienceMismatch = errors.New("audience mismatch")
	ErrNonceMismatch    = errors.New("nonce mismatch")
)

// TokenError says why a token was refused. Its message is a sentence for
// people and never contains the token; Reason is one of the Err* sentinels
// above and is what errors.Is matches.
type TokenError struct {
	Reason error
	Detail string
}

func (e *TokenError) Error() string { return e.Detail }
func (e *TokenError) Unwrap() error { return e.Reason }

func tokenErr(reason error, detail string) *TokenError {
	return &TokenError{Reason: reason, Detail: detail}
}
