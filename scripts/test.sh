#!/usr/bin/env bash
# scripts/test.sh — install what asyncmon's tests need and run all of them.
#
# It installs the external programs the tests use (Prometheus and promtool,
# tmux, the PostgreSQL server) from Debian packages when they are missing,
# then runs every test with the race detector and ASYNCMON_TEST_STRICT=1,
# under which a missing program fails a test instead of skipping it.
# Works as root or through sudo. The same script is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

say() { printf '\n== %s\n' "$*"; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v promtool >/dev/null || missing+=(prometheus)
command -v tmux >/dev/null || missing+=(tmux)
[ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export ASYNCMON_PG_BIN="${ASYNCMON_PG_BIN:-$(pg_bin)}"
export ASYNCMON_TEST_STRICT=1

say "go test -race ./... (main module)"
go test -race -count=1 -timeout 20m ./...

# The goroutineleak profile exists only under this experiment (Go 1.26).
say "go test ./internal/leaktest (GOEXPERIMENT=goroutineleakprofile)"
GOEXPERIMENT=goroutineleakprofile go test -count=1 ./internal/leaktest

# Further modules (benchmarks against peers, dashboards as code) keep their
# dependencies out of the main module; their tests run here too.
for mod in bench dashboards; do
  if [ -f "$mod/go.mod" ]; then
    say "go test ./... ($mod module)"
    (cd "$mod" && go test -race -count=1 -timeout 15m ./...)
  fi
done

# Tests that need the runtime's goroutineleak profile (Go 1.26,
# GOEXPERIMENT=goroutineleakprofile): the leak detector's runtime
# confirmation.
say "go test (GOEXPERIMENT=goroutineleakprofile)"
GOEXPERIMENT=goroutineleakprofile go test -count=1 -run 'LeakConfirmedByRuntime' ./agent

# Fuzz targets run for a short fixed time each: a crash fails the run.
fuzztime="${ASYNCMON_FUZZTIME:-15s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    say "fuzz $target ($pkg, $fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
  done
done
say "all tests passed"
