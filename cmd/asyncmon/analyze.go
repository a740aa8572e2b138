package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/internal/offline"
)

// groupKeyParts maps --key names to goroutines.GroupKey bits.
var groupKeyParts = []struct {
	name string
	key  goroutines.GroupKey
}{
	{"creator", goroutines.KeyCreatedBy},
	{"start", goroutines.KeyStart},
	{"wait", goroutines.KeyWaitReason},
	{"top", goroutines.KeyTopFrames},
	{"labels", goroutines.KeyLabels},
}

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("analyze", "[FILE|URL|-] [--json] [--limit N] [--stacks] [--key PARTS]",
		"Groups the goroutines of a dump: a file or - (standard input) holding\n"+
			"pprof goroutine?debug=2 or debug=1 text, a gzipped protobuf goroutine\n"+
			"profile, a panic or a SIGQUIT traceback;\n"+
			"or the URL of any Go program serving net/http/pprof (a bare\n"+
			"http://host:port gets /debug/pprof/goroutine?debug=2).", stderr)
	asJSON := fs.Bool("json", false, "print the groups as JSON")
	limit := fs.Int("limit", 40, "print at most `N` groups (0: all)")
	stacks := fs.Bool("stacks", false, "print each group's sample stack")
	key := fs.String("key", "creator,start,wait,top", "group key `parts`: creator, start, wait, top, labels")
	top := fs.Int("top-frames", 2, "user frames in the key's top part")
	pos, err := parseFlags(fs, args, 1)
	if err != nil {
		return err
	}
	src := "-"
	if len(pos) == 1 {
		src = pos[0]
	} else if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		// Nothing piped in: waiting on the terminal would look like a hang.
		return usageError{fmt.Errorf("give a dump FILE, a URL, or pipe a dump into standard input")}
	}
	var k goroutines.GroupKey
	for _, part := range strings.Split(*key, ",") {
		found := false
		for _, p := range groupKeyParts {
			if p.name == strings.TrimSpace(part) {
				k |= p.key
				found = true
			}
		}
		if !found {
			return usageError{fmt.Errorf("--key: unknown part %q", part)}
		}
	}
	if *limit < 0 || *top < 1 {
		return usageError{fmt.Errorf("--limit and --top-frames must be positive")}
	}
	dets, liveOnly := detectors.ForDump()
	opts := offline.Options{
		Group:     goroutines.GroupOptions{Key: k, TopFrames: *top, MaxGroups: 1 << 20},
		Detectors: dets,
	}
	for _, l := range liveOnly {
		opts.NeedLive = append(opts.NeedLive, l.Name+": "+l.Why)
	}
	return offline.Run(ctx, src, stdout, *asJSON, *limit, *stacks, opts)
}
