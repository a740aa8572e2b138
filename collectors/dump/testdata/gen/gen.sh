#!/bin/sh
# gen.sh regenerates ../dumps from real runs of gen under several Go
# versions (the module proxy serves the toolchains). Run it from this
# directory; it needs network access to proxy.golang.org.
set -u
out=../dumps
for v in 1.21.13 1.22.12 1.23.12 1.24.10 1.25.4 local 1.27.3; do
	if [ "$v" = local ]; then tc=local; v=$(GOTOOLCHAIN=local go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/'); else tc=go$v; fi
	n=go$(echo "$v" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
	export GOTOOLCHAIN=$tc
	go build -trimpath -o /tmp/asyncmon-gen . || exit 1
	/tmp/asyncmon-gen debug2 >"$out/$n-debug2.txt"
	/tmp/asyncmon-gen debug1 >"$out/$n-debug1.txt"
	GOTRACEBACK=all /tmp/asyncmon-gen panic 2>"$out/$n-panic-all.txt"
	/tmp/asyncmon-gen panic 2>"$out/$n-panic.txt"
	/tmp/asyncmon-gen sigquit 2>"$out/$n-sigquit.txt"
	GOTRACEBACK=system /tmp/asyncmon-gen sigquit 2>"$out/$n-sigquit-system.txt"
done
# Go 1.26 only: labels in tracebacks and the goroutineleak profile.
export GOTOOLCHAIN=local
go build -trimpath -o /tmp/asyncmon-gen . || exit 1
GODEBUG=tracebacklabels=1 /tmp/asyncmon-gen debug2 >"$out/go1.26-labels-debug2.txt"
GODEBUG=tracebacklabels=1 GOTRACEBACK=all /tmp/asyncmon-gen panic 2>"$out/go1.26-labels-panic-all.txt"
GODEBUG=tracebackancestors=3 /tmp/asyncmon-gen debug2 >"$out/go1.26-ancestors-debug2.txt"
GOEXPERIMENT=goroutineleakprofile go build -trimpath -o /tmp/asyncmon-gen-leak . &&
	/tmp/asyncmon-gen-leak leak >"$out/go1.26-leak-debug2.txt"
# Go 1.27: labels after the brackets, and the goroutineleak profile in
# every build. (This module says go 1.21, so tracebacklabels defaults to
# its old value, 0, and is set here.)
export GOTOOLCHAIN=go1.27.3
go build -trimpath -o /tmp/asyncmon-gen . || exit 1
GODEBUG=tracebacklabels=1 /tmp/asyncmon-gen debug2 >"$out/go1.27-labels-debug2.txt"
GODEBUG=tracebacklabels=1 GOTRACEBACK=all /tmp/asyncmon-gen panic 2>"$out/go1.27-labels-panic-all.txt"
/tmp/asyncmon-gen leak >"$out/go1.27-leak-debug2.txt"
rm -f /tmp/asyncmon-gen /tmp/asyncmon-gen-leak
