// Package fakekit is the machinery the vendor contract fakes share: a
// loopback server, the log of what reached a fake and of the contract
// violations it saw, a schedule of injected faults with the standard
// answers to them, and the writers and decoders every handler needs.
//
// It holds mechanism only. What a vendor answers (its error bodies, its
// rate-limit header names, its HTML error page, its media type) is the
// vendor's contract and stays in that vendor's fake, which passes it in.
package fakekit

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
)

// Loopback is an HTTP server listening on 127.0.0.1 only, so that a fake
// can never be reached from, or leak a credential to, another host.
// Embedded in a fake, it gives the fake its URL and Close.
type Loopback struct {
	// URL is http://127.0.0.1:port.
	URL string
	srv *httptest.Server
}

// Serve starts h on a port of 127.0.0.1 that the system picks. Like
// httptest.NewServer, it panics when it cannot listen: a fake that cannot
// start has nothing to test.
func Serve(h http.Handler) Loopback {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("fakekit: listening on 127.0.0.1: %v", err))
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	return Loopback{URL: srv.URL, srv: srv}
}

// Close stops the server after the requests in flight have been answered,
// so that what they recorded is complete when Close returns.
func (l Loopback) Close() { l.srv.Close() }
