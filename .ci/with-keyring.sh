#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service: a gnome-keyring-daemon
# on a private D-Bus session bus, unlocked with a throwaway password, keeping
# its keyrings in a temporary directory. Used by the keychain tests and the
# benchmarks.
#
#   .ci/with-keyring.sh COMMAND [ARGS...]
#
# Installs gnome-keyring, dbus-x11 and libsecret-tools from Debian if they
# are missing (as root, or through sudo). IDPCTL_KEYRING_PASSWORD is set for
# the command, so a test can lock and unlock the collection.
set -euo pipefail

packages=(gnome-keyring dbus-x11 libsecret-tools)

log() { printf 'with-keyring: %s\n' "$*" >&2; }

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		log "need root (or sudo) to run: $*"
		return 1
	fi
}

install_packages() {
	local missing=() pkg
	for pkg in "${packages[@]}"; do
		if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) != installed ]]; then
			missing+=("$pkg")
		fi
	done
	# dbus-run-session comes with the bus daemon itself (dbus, or dbus-bin
	# on later releases), which dbus-x11 pulls in.
	((${#missing[@]})) || command -v dbus-run-session >/dev/null || missing+=(dbus)
	((${#missing[@]})) || return 0

	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	local updated=no
	# Refresh the package lists only when they cannot supply the packages.
	if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
		as_root apt-get update -qq
		updated=yes
	fi
	if ! as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
		[[ $updated == no ]] || return 1
		# Stale lists name package versions the mirror no longer has.
		as_root apt-get update -qq
		as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# in_session runs inside dbus-run-session: it starts the keyring daemon,
# waits until it serves an unlocked login collection, runs the command and
# stops the daemon by its PID whatever happens. dbus-run-session then ends
# the bus.
in_session() {
	# --foreground keeps the daemon our child, so $! is its PID; --unlock
	# reads the password from stdin and, on first use of the keyring
	# directory, creates the "login" collection with it. Without a login
	# collection, go-keyring falls back to the "default" alias, which a
	# fresh daemon only creates through an interactive prompt.
	printf '%s' "$IDPCTL_KEYRING_PASSWORD" |
		gnome-keyring-daemon --foreground --unlock --components=secrets >"$XDG_RUNTIME_DIR/daemon.log" 2>&1 &
	daemon=$!
	trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true' EXIT

	# Ask the bus, not the service: a call to org.freedesktop.secrets
	# before the daemon owns the name would make D-Bus activate a second,
	# locked daemon from its .service file.
	local i
	for ((i = 0; i < 100; i++)); do
		if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' &&
			dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets/collection/login \
				org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection string:Locked 2>/dev/null |
			grep -q 'boolean false'; then
			break
		fi
		if ! kill -0 "$daemon" 2>/dev/null; then
			log "gnome-keyring-daemon exited:"
			cat "$XDG_RUNTIME_DIR/daemon.log" >&2
			return 1
		fi
		sleep 0.1
	done
	if ((i == 100)); then
		log "gnome-keyring-daemon did not offer an unlocked login collection within 10s:"
		cat "$XDG_RUNTIME_DIR/daemon.log" >&2
		return 1
	fi

	"$@"
}

self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/.."

if [[ ${1:-} == --in-session ]]; then
	shift
	in_session "$@"
	exit
fi

install_packages

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -m 700 "$tmp/runtime" "$tmp/data"
# A private runtime and data directory: the daemon's control socket and its
# keyrings (and so the login collection's password) are this run's alone.
export XDG_RUNTIME_DIR="$tmp/runtime" XDG_DATA_HOME="$tmp/data"
IDPCTL_KEYRING_PASSWORD=$(head -c 24 /dev/urandom | base64)
export IDPCTL_KEYRING_PASSWORD

dbus-run-session -- bash "$self" --in-session "$@"
