#!/usr/bin/env bash
# Runs the credential store's tests, including those behind the
# keychain_integration build tag, against a real Secret Service (see
# with-keyring.sh).
#
#   .ci/keychain-test.sh [go test flags...]     e.g. -v -run RealKeychain
#
# KEYCHAIN_TEST_PKGS names other packages to test in the same session (the
# end-to-end tests use it to run the refresh race on the keychain store).
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a pkg_dirs <<<"${KEYCHAIN_TEST_PKGS:-./internal/credstore/...}"
exec .ci/with-keyring.sh go test -tags keychain_integration -count=1 "$@" "${pkg_dirs[@]}"
