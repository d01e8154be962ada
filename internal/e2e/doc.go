// Package e2e holds the end-to-end tests of the idpctl binary.
//
// TestMain builds cmd/idpctl once; every test runs that binary as a user or
// a CI job would, with a clean environment, against identity providers this
// project did not write: panva's oidc-provider (package oidcpeer) and the
// fosite-based sandbox (package sandbox). Hostile answers (HTML error pages,
// oversized bodies, a foreign issuer, a hanging token endpoint) come from
// small httptest servers on 127.0.0.1.
//
// IDPCTL_E2E_STORE chooses the credential store of the tests that cache
// across invocations: file (the default) or keychain (a Secret Service on a
// D-Bus session bus must be running). Run with:
//
//	go test ./internal/e2e/...
package e2e
