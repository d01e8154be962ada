#!/usr/bin/env bash
# Validates the release configuration and builds a snapshot release: every
# GOOS/GOARCH target, archives, checksums, SBOMs and deb/rpm packages. A
# platform-specific break (the keychain code differs on macOS and Windows)
# fails here. Tools are pinned and built from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

goreleaser_version=v2.14.3

tools=$(mktemp -d)
dist=$(mktemp -d)
trap 'rm -rf "$tools" "$dist"' EXIT
export GOBIN=$tools PATH="$tools:$PATH"

go install "github.com/goreleaser/goreleaser/v2@$goreleaser_version"

goreleaser check
goreleaser release --snapshot --clean --skip=publish,announce,validate --config .goreleaser.yaml \
	--parallelism 2 2>&1 | tail -n 40
# goreleaser writes to ./dist; move it out of the tree.
mv dist "$dist/out"

archive=$(ls "$dist"/out/idpctl_*_linux_amd64.tar.gz)
listing=$(tar -tzf "$archive")
for want in idpctl completions/idpctl.bash completions/_idpctl completions/idpctl.fish man/man1/idpctl.1 man/man1/idpctl-token-get.1 LICENSE README.md \
	docker-credential-idpctl completions/docker-credential-idpctl.bash man/man1/docker-credential-idpctl.1; do
	grep -qx "$want" <<<"$listing" || { echo "release-check: $want missing from $archive" >&2; exit 1; }
done
for os in linux darwin windows; do
	for arch in amd64 arm64; do
		ls "$dist"/out/idpctl_*_"${os}"_"${arch}".* >/dev/null || { echo "release-check: no archive for $os/$arch" >&2; exit 1; }
	done
done
ls "$dist"/out/*.deb "$dist"/out/*.rpm "$dist"/out/*.cdx.json "$dist"/out/checksums.txt >/dev/null
# Listed into a variable first: grep -q would close the pipe early, and
# under pipefail dpkg-deb's SIGPIPE would fail the check.
deb_listing=$(dpkg-deb -c "$dist"/out/*amd64.deb)
grep -q usr/share/man/man1/idpctl-token-get.1 <<<"$deb_listing" ||
	{ echo "release-check: the deb package lacks the man pages" >&2; exit 1; }
grep -q usr/bin/docker-credential-idpctl <<<"$deb_listing" ||
	{ echo "release-check: the deb package lacks docker-credential-idpctl" >&2; exit 1; }
# The version command reports what ldflags embedded.
commit=$(git rev-parse --short HEAD)
version_line=$("$dist"/out/idpctl_linux_amd64_v1/idpctl version)
grep -q "commit $commit" <<<"$version_line" ||
	{ echo "release-check: the binary does not report commit $commit" >&2; exit 1; }
helper_version=$("$dist"/out/docker-credential-idpctl_linux_amd64_v1/docker-credential-idpctl version)
grep -q "^docker-credential-idpctl " <<<"$helper_version" ||
	{ echo "release-check: docker-credential-idpctl does not report its version" >&2; exit 1; }
echo "release-check: snapshot archives, packages, SBOMs and checksums are complete"
