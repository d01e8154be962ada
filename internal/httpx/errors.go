package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-resty/resty/v2"

	"github.com/idpctl/idpctl/internal/errs"
)

// classify turns a transport error into a one-line, secret-free sentence of
// kind KindNetwork (or KindInterrupted when the user cancelled). The URL is
// never quoted: only the host, since queries may carry identifiers.
func classify(ctx context.Context, err error, host string, opts Options) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return errs.New(errs.KindInterrupted, "request to %s cancelled", host)
	}
	if errors.Is(err, resty.ErrResponseBodyTooLarge) {
		return errs.New(errs.KindNetwork, "the response from %s is larger than the %s limit; is the URL right?", host, byteSize(opts.MaxBody))
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return errs.New(errs.KindNetwork, "TLS: the certificate of %s is signed by an unknown authority; trust its CA with --ca-file", host)
	}
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return errs.New(errs.KindNetwork, "TLS: the certificate of %s is not valid for that name (%s)", host, hostErr.Error())
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		reason := "invalid"
		if invalid.Reason == x509.Expired {
			reason = "expired or not yet valid"
		}
		return errs.New(errs.KindNetwork, "TLS: the certificate of %s is %s", host, reason)
	}
	var verifyErr *tls.CertificateVerificationError
	if errors.As(err, &verifyErr) {
		return errs.New(errs.KindNetwork, "TLS: the certificate of %s could not be verified", host)
	}
	var recordErr tls.RecordHeaderError
	if errors.As(err, &recordErr) {
		return errs.New(errs.KindNetwork, "TLS handshake with %s failed: the server did not answer with TLS; check the URL scheme and port", host)
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return errs.New(errs.KindNetwork, "TLS handshake with %s failed: %s", host, alert.Error())
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
		return transientError{errs.New(errs.KindNetwork, "no answer from %s within %s", host, opts.Timeout)}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return errs.New(errs.KindNetwork, "cannot resolve %s", dnsErr.Name)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		// Not retried here: nothing listens there, and waiting through
		// back-off only delays the answer a person or script needs. Marked
		// retryable for callers with their own policy (a bulk run outlives
		// an admin API restart).
		return errs.MarkRetryable(errs.New(errs.KindNetwork, "cannot connect to %s: connection refused", host))
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return transientError{errs.New(errs.KindNetwork, "the connection to %s was closed before the answer was complete", host)}
	}
	if strings.Contains(err.Error(), "too many redirects") {
		return errs.New(errs.KindNetwork, "%s redirected too many times", host)
	}
	var kerr *errs.Error
	if errors.As(err, &kerr) {
		return kerr
	}
	return errs.New(errs.KindNetwork, "request to %s failed: %s", host, opErrorSummary(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// opErrorSummary keeps the innermost cause of a *net.OpError or *url.Error,
// which names the operation but not the URL.
func opErrorSummary(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// transientError marks a failure that an idempotent request may repeat:
// timeouts and dropped connections, not refusals, TLS or size problems.
type transientError struct{ error }

func (t transientError) Unwrap() error { return t.error }

// Transient reports whether err is a timeout or a dropped connection, which
// an idempotent request may repeat; refusals, TLS and size errors are not.
func Transient(err error) bool { return transient(err) }

// Retryable lets callers outside httpx (errs.IsRetryable) repeat it too.
func (t transientError) Retryable() bool { return true }

func transient(err error) bool {
	var t transientError
	return errors.As(err, &t)
}
