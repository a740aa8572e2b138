// Package analyze is the logic of "asyncmon analyze": it loads a
// goroutine dump from a file, standard input or any Go program's
// /debug/pprof/goroutine endpoint, groups it, runs detectors over it, and
// prints the table or JSON.
package offline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
	"github.com/asyncmon/asyncmon/findings"
	"github.com/asyncmon/asyncmon/model"
	"github.com/google/pprof/profile"
)

// maxInputBytes bounds what Load reads: the runtime cuts dumps at 64 MiB,
// so four times that is a dump plus any surrounding log.
const maxInputBytes = 256 << 20

// goroutinePath is where net/http/pprof serves the goroutine dump.
const goroutinePath = "/debug/pprof/goroutine"

// Options configures Load and Run.
type Options struct {
	// Group configures grouping. Optional. Default collectors'
	// DefaultGroupKey (creation site × start × wait reason × top frames).
	Group goroutines.GroupOptions
	// Detectors run over the dump, seen as a one-snapshot window.
	// Optional.
	Detectors []model.Detector
	// NeedLive names the detectors a single dump cannot support, with
	// why; they are reported so users know what a live agent adds.
	// Optional.
	NeedLive []string
	// Client fetches URLs. Optional. Default a client with a 30 s timeout.
	Client *http.Client
	// Stdin is read for the source "-". Optional. Default os.Stdin.
	Stdin io.Reader
}

// Result is what analyze reports: the JSON of --json.
type Result struct {
	// Source is the file, URL or "-" the dump came from.
	Source string `json:"source"`
	// Format is "traceback" (debug=2, panics, SIGQUIT) or "profile"
	// (debug=1).
	Format string `json:"format"`
	// Goroutines is the number of goroutines read.
	Goroutines int `json:"goroutines"`
	// Truncated is true when the dump was cut off.
	Truncated bool `json:"truncated,omitempty"`
	// Errors are the malformed lines that were skipped.
	Errors []string `json:"errors,omitempty"`
	// GroupsTotal counts the groups; Groups are the largest first.
	GroupsTotal int                    `json:"groups_total"`
	Groups      []model.GoroutineGroup `json:"groups"`
	// ByWaitReason counts goroutines per normalised wait reason.
	ByWaitReason map[string]int `json:"by_wait_reason"`
	// Crash is the crash the dump is the output of (a panic, a fatal
	// error), if it is one.
	Crash *model.Crash `json:"crash,omitempty"`
	// Findings are what the detectors found in the dump.
	Findings []model.Finding `json:"findings,omitempty"`
	// NeedLive names the detectors that need a live agent, with why.
	NeedLive []string `json:"need_live_agent,omitempty"`
}

// Load reads and parses the dump at src: a file path, "-" for standard
// input, or an http(s) URL. A URL without a path gets
// /debug/pprof/goroutine, and one without a debug parameter gets
// debug=2, so "http://host:6060" works against any Go program that
// mounts net/http/pprof. The dump is returned with the parse error, if
// any (a dump with malformed lines is still usable).
func Load(ctx context.Context, src string, opts Options) (*dump.Dump, error) {
	r, closeFn, err := open(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	br := bufio.NewReaderSize(io.LimitReader(r, maxInputBytes), 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		// A gzipped protobuf profile: pprof's goroutine?debug=0, or
		// "asyncmon capture --kind goroutine".
		d, err := ParseProto(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		return d, nil
	}
	d, err := dump.Parse(br)
	if err != nil {
		return d, fmt.Errorf("%s: %w", src, err)
	}
	return d, nil
}

// ParseProto reads a goroutine profile in pprof's protobuf form
// (goroutine?debug=0, gzipped or not). Unlike the debug=1 text it keeps
// the runtime frames, so the wait reasons are inferred as the live
// collector does; like it, it is cheap for the target to write (the
// concurrent profile, no long stop-the-world), so it is the form to poll
// a process that does not embed the agent.
func ParseProto(r io.Reader) (*dump.Dump, error) {
	p, err := profile.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("parse profile: %w", err)
	}
	if len(p.SampleType) == 0 || p.SampleType[0].Type != "goroutine" {
		var types []string
		for _, st := range p.SampleType {
			types = append(types, st.Type)
		}
		return nil, fmt.Errorf("not a goroutine profile (sample types %v)", types)
	}
	d := &dump.Dump{Format: dump.FormatProfile}
	for _, s := range p.Sample {
		if len(s.Value) == 0 || s.Value[0] <= 0 {
			continue
		}
		var g model.Goroutine
		for _, loc := range s.Location {
			// Lines are innermost first within a location (inlining).
			for _, ln := range loc.Line {
				if ln.Function == nil {
					continue
				}
				if ln.Function.Name == "runtime.goexit" {
					continue
				}
				g.Frames = append(g.Frames, model.Frame{Func: ln.Function.Name, File: ln.Function.Filename, Line: int(ln.Line)})
			}
		}
		for k, vs := range s.Label {
			if len(vs) > 0 {
				if g.Labels == nil {
					g.Labels = make(map[string]string)
				}
				g.Labels[k] = vs[0]
			}
		}
		g.WaitReason = dump.InferWaitReason(g.Frames)
		d.Records = append(d.Records, dump.ProfileRecord{Count: int(s.Value[0]), Goroutine: g})
		d.Total += int(s.Value[0])
	}
	if len(d.Records) == 0 {
		return d, dump.ErrNoGoroutines
	}
	return d, nil
}

func open(ctx context.Context, src string, opts Options) (io.Reader, func(), error) {
	switch {
	case src == "-":
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		return in, func() {}, nil
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		u, err := DumpURL(src)
		if err != nil {
			return nil, nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, nil, err
		}
		c := opts.Client
		if c == nil {
			c = &http.Client{Timeout: 30 * time.Second}
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, nil, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		return resp.Body, func() { resp.Body.Close() }, nil
	default:
		f, err := os.Open(src)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
}

// DumpURL completes a URL to a goroutine dump: the pprof path when the
// URL has none, and debug=2 when it has no debug parameter.
func DumpURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad URL %q: %w", raw, err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("bad URL %q: no host", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = goroutinePath
	}
	q := u.Query()
	if !q.Has("debug") {
		q.Set("debug", "2")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// Analyze groups d and runs the detectors over it.
func Analyze(src string, d *dump.Dump, opts Options) *Result {
	t := goroutines.GroupDump(d, opts.Group)
	r := &Result{
		Source:       src,
		Format:       d.Format,
		Goroutines:   t.Goroutines,
		Truncated:    d.Truncated,
		GroupsTotal:  t.Total,
		Groups:       t.Groups,
		ByWaitReason: t.ByWaitReason,
		Crash:        d.Crash,
	}
	for _, e := range d.Errors {
		r.Errors = append(r.Errors, e.Error())
	}
	r.NeedLive = opts.NeedLive
	if len(opts.Detectors) > 0 {
		s := &model.Snapshot{Time: time.Now(), Crash: d.Crash}
		fillCounts(s, t)
		w := model.Window{Snapshots: []*model.Snapshot{s}}
		for _, det := range opts.Detectors {
			// A broken detector must not cost the user the table:
			// its panic is left out of the findings.
			fs, _ := findings.Detect(det, w)
			r.Findings = append(r.Findings, fs...)
		}
	}
	return r
}

// Run loads src, analyzes it, and writes the result to w: a table, or
// JSON when asJSON. limit bounds the table rows (0: all); stacks adds
// each group's sample stack. A dump with malformed lines is reported and
// still analyzed; Run fails only when nothing could be read.
func Run(ctx context.Context, src string, w io.Writer, asJSON bool, limit int, stacks bool, opts Options) error {
	d, err := Load(ctx, src, opts)
	if d == nil || (err != nil && len(d.Goroutines) == 0 && len(d.Records) == 0) {
		return err
	}
	r := Analyze(src, d, opts)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return WriteTable(w, r, limit, stacks)
}

// WriteTable writes r as a readable table, largest groups first.
func WriteTable(w io.Writer, r *Result, limit int, stacks bool) error {
	if c := r.Crash; c != nil {
		fmt.Fprintf(w, "crash: %s: %s\n  on goroutine %d at %s\n\n", c.Kind, c.Message, c.GoroutineID, c.Site.Short())
	}
	fmt.Fprintf(w, "%d goroutines in %d groups (%s, %s)\n", r.Goroutines, r.GroupsTotal, r.Source, r.Format)
	if r.Truncated {
		fmt.Fprintln(w, "warning: the dump was cut off; the last goroutines are missing or incomplete")
	}
	if n := len(r.Errors); n > 0 {
		fmt.Fprintf(w, "warning: %d malformed lines skipped, first: %s\n", n, r.Errors[0])
	}
	if r.Format == dump.FormatProfile {
		fmt.Fprintln(w, "note: a goroutine profile has no IDs, wait times or creation sites, and its wait reasons are inferred from the frames (debug=1 text hides the runtime's, so many read \"other\"); debug=2 has it all")
	}
	reasons := make([]string, 0, len(r.ByWaitReason))
	for k := range r.ByWaitReason {
		reasons = append(reasons, k)
	}
	slices.SortFunc(reasons, func(a, b string) int { return r.ByWaitReason[b] - r.ByWaitReason[a] })
	var parts []string
	for _, k := range reasons {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.ByWaitReason[k]))
	}
	fmt.Fprintf(w, "by wait reason: %s\n\n", strings.Join(parts, ", "))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, " COUNT\tWAIT\tLONGEST\tWHERE\tCREATED BY (or start)")
	gs := r.Groups
	if limit > 0 && len(gs) > limit {
		gs = gs[:limit]
	}
	for _, g := range gs {
		longest := ""
		if g.MaxWait >= time.Minute {
			longest = fmt.Sprintf("%dm", int(g.MaxWait/time.Minute))
		}
		if g.Leaked > 0 {
			longest += fmt.Sprintf(" (%d leaked)", g.Leaked)
		}
		created := g.CreatedBy
		if created.IsZero() {
			created = g.Start
		}
		fmt.Fprintf(tw, "%6d\t%s\t%s\t%s\t%s\n", g.Count, g.WaitReason, longest, g.Site().Short(), created.Short())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Groups) > len(gs) || r.GroupsTotal > len(r.Groups) {
		fmt.Fprintf(w, "... %d more groups (--limit, --json)\n", r.GroupsTotal-len(gs))
	}
	if stacks {
		for _, g := range gs {
			fmt.Fprintf(w, "\n%d × %s  key %s", g.Count, g.WaitReason, g.Key)
			if len(g.SampleIDs) > 0 {
				fmt.Fprintf(w, "  e.g. goroutine %d", g.SampleIDs[0])
			}
			if len(g.Labels) > 0 {
				fmt.Fprintf(w, "  labels %v", g.Labels)
			}
			fmt.Fprintln(w)
			for _, f := range g.Stack {
				fmt.Fprintf(w, "    %s\n        %s\n", f.Func, f.Site())
			}
			if !g.CreatedBy.IsZero() {
				fmt.Fprintf(w, "    created by %s\n        %s\n", g.CreatedBy.Func, g.CreatedBy.Site())
			}
		}
	}
	if len(r.Findings) == 0 && len(r.Groups) > 0 {
		fmt.Fprintln(w, "\nfindings: none")
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "\n[%s] %s: %s\n  %s\n", f.Level, f.Detector, f.Title, f.Summary)
	}
	if len(r.NeedLive) > 0 {
		fmt.Fprintln(w, "\nNeed a live agent (asyncmon findings ADDR):")
		for _, n := range r.NeedLive {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	return nil
}
