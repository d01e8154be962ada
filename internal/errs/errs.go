// Package errs gives errors a kind that the command line maps to an exit
// code in one place (internal/cli). Lower layers classify what went wrong;
// they never choose a number.
package errs

import (
	"errors"
	"fmt"
)

// Kind says what class of failure an error is, from the user's point of view.
type Kind int

const (
	// KindUnknown is any error that carries no kind: exit code 1.
	KindUnknown Kind = iota
	// KindUsage is a wrong flag, argument or missing setting: exit code 2.
	KindUsage
	// KindLoginRequired means no usable credentials: nothing cached, or the
	// IdP answered invalid_grant. Exit code 3.
	KindLoginRequired
	// KindRefused means the IdP refused us: invalid_client, 401, 403. Exit code 4.
	KindRefused
	// KindNetwork is a connection, TLS, timeout or unreadable-response failure. Exit code 5.
	KindNetwork
	// KindStore means the credential store cannot be used. Exit code 6.
	KindStore
	// KindUnsupported means the provider has no such operation. Exit code 7.
	KindUnsupported
	// KindPartial means a bulk run finished with some items failed. Exit code 8.
	KindPartial
	// KindInterrupted means the user stopped us (SIGINT). Exit code 130.
	KindInterrupted
)

func (k Kind) String() string {
	switch k {
	case KindUsage:
		return "usage"
	case KindLoginRequired:
		return "login required"
	case KindRefused:
		return "refused by the identity provider"
	case KindNetwork:
		return "network"
	case KindStore:
		return "credential store unavailable"
	case KindUnsupported:
		return "not supported by this provider"
	case KindPartial:
		return "partial failure"
	case KindInterrupted:
		return "interrupted"
	default:
		return "error"
	}
}

// Error is an error with a kind. Its message is the wrapped error's.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a formatted message; %w works.
func New(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// Wrap gives err a kind, keeping its message. A nil err stays nil.
func Wrap(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// KindOf returns the kind of the outermost classified error in err's chain,
// so that a caller can re-classify an error by wrapping it again.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// Is reports whether err is classified with kind.
func Is(err error, kind Kind) bool { return KindOf(err) == kind }

// retryable marks an error whose operation may well succeed if repeated
// unchanged: the request never reached a server (connection refused), or
// the server reported a transient conflict. It keeps the wrapped error's
// kind and message.
type retryable struct{ error }

func (r retryable) Unwrap() error { return r.error }

// Retryable reports true: see IsRetryable.
func (retryable) Retryable() bool { return true }

// MarkRetryable marks err as worth repeating for an idempotent operation.
// Whether to repeat, how often and after how long is the caller's policy.
func MarkRetryable(err error) error {
	if err == nil {
		return nil
	}
	return retryable{err}
}

// IsRetryable reports whether anything in err's chain says, through a
// Retryable() bool method, that the operation may be repeated.
func IsRetryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}
