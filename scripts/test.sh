#!/usr/bin/env bash
# scripts/test.sh — install what asyncmon's tests need and run all of them,
# on every supported Go release.
#
# It installs the external programs the tests use (Prometheus and promtool,
# tmux, the PostgreSQL server, and etcd, Caddy and the NATS server: real
# Go servers watched for false alarms) from Debian packages when they are
# missing, then runs every test with the race detector and ASYNCMON_TEST_STRICT=1,
# under which a missing program fails a test instead of skipping it.
#
# The suite runs once per Go release in ASYNCMON_GO_VERSIONS (default: the
# local go, which go.mod keeps at 1.26, and go1.27.3, which the go command
# fetches from the module proxy through GOTOOLCHAIN). Every step runs even
# after one fails; the script then fails with a summary of what failed, so
# one flaky test does not hide the rest.
#
# Works as root or through sudo. The same script is what CI runs.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

say() { printf '\n== %s\n' "$*"; }

failed=()
# step NAME CMD...: run one step, remember it if it fails, go on.
step() {
  local name=$1
  shift
  say "$name"
  local t0=$SECONDS
  if "$@"; then
    printf -- '-- ok: %s (%ds)\n' "$name" $((SECONDS - t0))
  else
    printf -- '-- FAILED: %s (%ds)\n' "$name" $((SECONDS - t0))
    failed+=("$name")
  fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v promtool >/dev/null || missing+=(prometheus)
command -v tmux >/dev/null || missing+=(tmux)
# Real third-party Go servers that bench/thirdparty watches for false alarms.
command -v etcd >/dev/null || missing+=(etcd-server)
command -v caddy >/dev/null || missing+=(caddy)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
[ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "test.sh: could not install ${missing[*]}" >&2; exit 1; }
fi
export ASYNCMON_PG_BIN="${ASYNCMON_PG_BIN:-$(pg_bin)}"
export ASYNCMON_TEST_STRICT=1

# module_tests: the bench and dashboards modules keep their dependencies
# (peers, dashboards as code) out of the main module; their tests run too.
module_tests() { (cd "$1" && go test -race -count=1 -timeout 20m ./...); }

versions=${ASYNCMON_GO_VERSIONS:-local go1.27.3}
for v in $versions; do
  if [ "$v" = local ]; then unset GOTOOLCHAIN; else export GOTOOLCHAIN=$v; fi
  gov=$(go env GOVERSION) || { failed+=("go $v: toolchain"); continue; }
  step "$gov: go version" go version
  step "$gov: go test -race ./... (main module)" go test -race -count=1 -timeout 25m ./...
  # The race detector's runtime never reports "all goroutines are asleep",
  # so the dump parser's crash tests also run without it.
  step "$gov: crash outputs without the race detector (collectors/dump)" go test -count=1 -run 'Crash' ./collectors/dump
  case $gov in
    go1.26*)
      # The goroutineleak profile exists on Go 1.26 only under this
      # experiment (Go 1.27 has it in every build, so the runs above
      # already cover it there).
      step "$gov: leak profile tests (GOEXPERIMENT=goroutineleakprofile)" \
        env GOEXPERIMENT=goroutineleakprofile go test -count=1 ./internal/leaktest
      step "$gov: collector leak reads (GOEXPERIMENT=goroutineleakprofile)" \
        env GOEXPERIMENT=goroutineleakprofile go test -count=1 -run 'Leak' ./collectors/goroutines
      step "$gov: agent leak confirmation (GOEXPERIMENT=goroutineleakprofile)" \
        env GOEXPERIMENT=goroutineleakprofile go test -count=1 -run 'LeakConfirmed|OneLeakConfirmed' ./agent
      ;;
  esac
  for mod in bench dashboards; do
    [ -f "$mod/go.mod" ] && step "$gov: go test -race ./... ($mod module)" module_tests "$mod"
  done
done
unset GOTOOLCHAIN

# Fuzz targets run for a short fixed time each: a crash fails the run.
fuzztime="${ASYNCMON_FUZZTIME:-15s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    step "fuzz $target ($pkg, $fuzztime)" go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
  done
done

if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${#failed[@]} step(s)"
  printf '  - %s\n' "${failed[@]}"
  exit 1
fi
say "all tests passed on: $versions"
