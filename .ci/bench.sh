#!/usr/bin/env bash
# Whole-process benchmarks of idpctl against their baselines, with
# hyperfine. Results go to stdout as Markdown rows for docs/performance.md.
#
#   .ci/bench.sh            everything (the keychain rows run inside a
#                           private Secret Service via with-keyring.sh)
#
# Needs hyperfine, curl, secret-tool and GNU time (installed from Debian if
# missing). Run on an otherwise idle machine; the figures are means of many
# runs with warm-up, and the ratios matter more than the absolute times.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${BENCH_RUNS:-300}
work=$(mktemp -d)
sandbox_pid=
cleanup() {
	[[ -n $sandbox_pid ]] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v curl >/dev/null || need+=(curl)
command -v secret-tool >/dev/null || need+=(libsecret-tools)
[[ -x /usr/bin/time ]] || need+=(time)
if ((${#need[@]})); then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Build exactly what users run: trimmed, static, stripped.
export CGO_ENABLED=0
go build -trimpath -ldflags '-s -w' -o "$work/idpctl" ./cmd/idpctl
go build -trimpath -ldflags '-s -w' -o "$work/empty" ./.ci/bench/empty
go build -trimpath -ldflags '-s -w' -o "$work/emptycobra" ./.ci/bench/emptycobra
bin=$work/idpctl

# mean_ms CMD...: hyperfine's mean wall time in milliseconds.
mean_ms() {
	hyperfine -N --warmup 30 --runs "$runs" --export-json "$work/h.json" "$*" >/dev/null 2>&1
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.2f %.2f" % (r["mean"]*1000, r["stddev"]*1000))' "$work/h.json"
}
# peak_kb CMD...: peak resident memory.
peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
row() { # name, cmd-ms, base-name, base-ms, aim, peak
	local ratio
	ratio=$(python3 -c "print('%.2f' % ($2/$4))")
	printf '| %s | %s ms | %s | %s ms | %s× | %s | %s KB |\n' "$1" "$2" "$3" "$4" "$ratio" "$5" "$6"
}

printf '| measure | idpctl | baseline | baseline time | ratio | aim | peak RSS |\n|---|---|---|---|---|---|---|\n'

read -r empty_ms _ < <(mean_ms "$work/empty")
read -r cobra_ms _ < <(mean_ms "$work/emptycobra version")
read -r cobra_help_ms _ < <(mean_ms "$work/emptycobra --help")
read -r version_ms _ < <(mean_ms "$bin version")
read -r help_ms _ < <(mean_ms "$bin --help")
row '`idpctl version`' "$version_ms" 'empty cobra program, `version`' "$cobra_ms" '≤ 1.5×' "$(peak_kb "$bin" version)"
row '`idpctl --help`' "$help_ms" 'empty cobra program, `--help`' "$cobra_help_ms" '≤ 1.5×' "$(peak_kb "$bin" --help)"

# A sandbox IdP on loopback, and a profile pointing at it.
export XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state XDG_CACHE_HOME=$work/cache HOME=$work
"$bin" sandbox -o env --addr 127.0.0.1:0 --access-token-ttl 1h >"$work/sandbox.env" &
sandbox_pid=$!
for _ in $(seq 50); do [[ -s $work/sandbox.env ]] && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/sandbox.env"
printf '%s' "$IDPCTL_CLIENT_SECRET" >"$work/secret"
unset IDPCTL_CLIENT_SECRET
export IDPCTL_CLIENT_SECRET_FILE=$work/secret

# Cached token get, file backend, against an empty Go program.
IDPCTL_STORE=file "$bin" token get >/dev/null 2>&1
read -r file_ms _ < <(IDPCTL_STORE=file mean_ms "$bin token get")
row 'cached `token get`, file store' "$file_ms" 'empty Go program' "$empty_ms" '≤ 3×' "$(IDPCTL_STORE=file peak_kb "$bin" token get)"

# Cold token get (client credentials, discovery cached) against curl making
# the same token request.
token_endpoint="$IDPCTL_ISSUER/token"
read -r cold_ms _ < <(IDPCTL_STORE=memory mean_ms "$bin token get --no-cache")
# The secret goes in a curl config file, not on the command line.
printf 'user = "%s:%s"\n' "$IDPCTL_CLIENT_ID" "$(cat "$work/secret")" >"$work/curlrc"
read -r curl_ms _ < <(mean_ms "curl -s -o /dev/null -K $work/curlrc -d grant_type=client_credentials $token_endpoint")
row 'cold `token get` (discovery cached)' "$cold_ms" 'curl, same token request' "$curl_ms" '≤ 1.3×' "$(IDPCTL_STORE=memory peak_kb "$bin" token get --no-cache)"

# Cached token get, keychain backend, against secret-tool lookup of one item,
# both inside one private Secret Service session.
cat >"$work/keychain.sh" <<EOS
set -euo pipefail
export IDPCTL_STORE=keychain
"$bin" token get >/dev/null
read -r kc_ms _ < <(hyperfine -N --warmup 30 --runs $runs --export-json "$work/k.json" "$bin token get" >/dev/null 2>&1; python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.2f %.2f" % (r["mean"]*1000, r["stddev"]*1000))' "$work/k.json")
read -r st_ms _ < <(hyperfine -N --warmup 30 --runs $runs --export-json "$work/s.json" "secret-tool lookup service idpctl username default:access_token" >/dev/null 2>&1; python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.2f %.2f" % (r["mean"]*1000, r["stddev"]*1000))' "$work/s.json")
peak=\$(/usr/bin/time -f %M "$bin" token get 2>&1 >/dev/null | tail -1)
ratio=\$(python3 -c "print('%.2f' % (\$kc_ms/\$st_ms))")
printf '| cached \`token get\`, keychain | %s ms | \`secret-tool lookup\` | %s ms | %s× | ≤ 1.3× | %s KB |\n' "\$kc_ms" "\$st_ms" "\$ratio" "\$peak"
EOS
.ci/with-keyring.sh bash "$work/keychain.sh" 2>/dev/null

printf '\nbinary: %s bytes (stripped, static); empty Go program %s bytes; empty cobra program %s bytes\n' \
	"$(stat -c %s "$bin")" "$(stat -c %s "$work/empty")" "$(stat -c %s "$work/emptycobra")"
