// Package runner builds the corpus programs, runs each in its own process
// with bounded parallelism, polls its agent's findings and scores them:
// recall (a firing warning or critical finding naming a marked site) and
// false alarms (a firing warning or critical finding on a healthy
// program, or at an unmarked site of a buggy one).
package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
	"github.com/asyncmon/asyncmon/model"
)

// Options set a run. The zero value runs 8 at once for 60 s each.
type Options struct {
	// Parallel is how many programs run at once. Default 8.
	Parallel int
	// Timeout is how long each program is watched. Default 60 s.
	Timeout time.Duration
	// Poll is the time between two reads of the findings. Default 1 s.
	Poll time.Duration
	// Progress, when set, receives one line per finished program.
	Progress io.Writer
}

func (o Options) withDefaults() Options {
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	return o
}

// Dir is the corpus's source directory (bench/corpus).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// Build compiles cmd/prog (all programs in one binary; each run is its
// own process) into tmp with the go command on PATH and its environment.
// A toolchain other than "" or "local" is passed as GOTOOLCHAIN (e.g.
// "go1.27.3").
func Build(ctx context.Context, toolchain, tmp string) (string, error) {
	name := "corpus-prog"
	if toolchain != "" {
		name += "-" + toolchain
	}
	bin := filepath.Join(tmp, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/prog")
	cmd.Dir = Dir()
	cmd.Env = os.Environ()
	if toolchain != "" && toolchain != "local" {
		cmd.Env = append(cmd.Env, "GOTOOLCHAIN="+toolchain)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/prog: %v\n%s", err, out)
	}
	return bin, nil
}

// Entry is a program with its marked sites.
type Entry struct {
	corpus.Program
	Sites []corpus.Site `json:"sites,omitempty"`
}

// List asks the built binary for its programs and reads their markers.
func List(ctx context.Context, bin string) ([]Entry, error) {
	out, err := exec.CommandContext(ctx, bin, "-list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s -list: %w", bin, err)
	}
	var ps []corpus.Program
	if err := json.Unmarshal(out, &ps); err != nil {
		return nil, fmt.Errorf("%s -list: %w", bin, err)
	}
	if len(ps) == 0 {
		return nil, errors.New("the corpus has no programs")
	}
	es := make([]Entry, len(ps))
	for i, p := range ps {
		sites, err := corpus.Sites(p)
		if err != nil {
			return nil, err
		}
		es[i] = Entry{Program: p, Sites: sites}
	}
	return es, nil
}

// Alarm is a firing warning or critical finding, shortened.
type Alarm struct {
	Detector string        `json:"detector"`
	Level    model.Level   `json:"level"`
	Subject  string        `json:"subject"`
	Title    string        `json:"title"`
	After    time.Duration `json:"after_ns"`
}

func (a Alarm) String() string {
	return fmt.Sprintf("%s/%s after %s: %s", a.Detector, a.Level, a.After.Round(time.Second), a.Title)
}

// Result is what one program's run showed.
type Result struct {
	Entry
	// GoVersion is the program's runtime.Version().
	GoVersion string `json:"go_version,omitempty"`
	// Found is set when a firing warning or critical finding named a
	// marked site; FoundAfter is the time from start to the first poll
	// that saw it, and FoundBy that finding.
	Found      bool          `json:"found"`
	FoundAfter time.Duration `json:"found_after_ns,omitempty"`
	FoundBy    *Alarm        `json:"found_by,omitempty"`
	// Alarms are the firing warning or critical findings that named no
	// marked site: on a healthy program all of them, each a false alarm.
	Alarms []Alarm `json:"alarms,omitempty"`
	// Stuck counts the goroutines blocked at a marked site at the end of
	// the run, from the program's own goroutine profile: it shows that the
	// bug really happened, whatever the detectors said. -1 when the
	// profile could not be read.
	Stuck int `json:"stuck"`
	// Polls counts the successful reads of the findings.
	Polls int `json:"polls"`
	// Err is set when the program could not be run or watched.
	Err string `json:"error,omitempty"`
	// PID is the program's process ID; Exited is set once the process has
	// been reaped.
	PID    int  `json:"pid,omitempty"`
	Exited bool `json:"exited"`
}

// Run runs the entries, Parallel at once, each for Timeout, and returns
// their results in the entries' order. Cancelling ctx kills every child
// and returns what was seen so far; no child outlives Run.
func Run(ctx context.Context, bin string, es []Entry, o Options) []Result {
	o = o.withDefaults()
	tmp, err := os.MkdirTemp("", "asyncmon-corpus-")
	if err != nil {
		tmp = ""
	} else {
		defer os.RemoveAll(tmp)
	}
	res := make([]Result, len(es))
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	var pmu sync.Mutex
	for i, e := range es {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				res[i] = Result{Entry: e, Err: "not run: " + ctx.Err().Error(), Exited: true}
				return
			}
			defer func() { <-sem }()
			res[i] = runOne(ctx, bin, tmp, e, o)
			if o.Progress != nil {
				pmu.Lock()
				fmt.Fprintln(o.Progress, res[i].line())
				pmu.Unlock()
			}
		})
	}
	wg.Wait()
	return res
}

func (r Result) line() string {
	verdict := "missed"
	switch {
	case r.Err != "":
		verdict = "ERROR " + r.Err
	case r.Healthy() && len(r.Alarms) == 0:
		verdict = "quiet"
	case r.Healthy():
		verdict = fmt.Sprintf("FALSE ALARM ×%d", len(r.Alarms))
	case r.Found:
		verdict = fmt.Sprintf("found in %s by %s", r.FoundAfter.Round(time.Second), r.FoundBy.Detector)
	}
	if !r.Healthy() {
		verdict += fmt.Sprintf(" [%d stuck at marked sites]", r.Stuck)
	}
	s := fmt.Sprintf("%-18s %-16s %s", r.Class, r.Name, verdict)
	for _, a := range r.Alarms {
		s += "\n    alarm: " + a.String()
	}
	return s
}

// runOne starts one program, polls its findings until the timeout or
// ctx ends, then kills and reaps it.
func runOne(ctx context.Context, bin, tmp string, e Entry, o Options) (r Result) {
	r = Result{Entry: e, Stuck: -1}
	// ctx ends the process; watch ends the polling, a little earlier, so
	// that the goroutine profile can be read before the kill.
	ctx, cancel := context.WithTimeout(ctx, o.Timeout+10*time.Second)
	defer cancel()
	watch, stopWatch := context.WithTimeout(ctx, o.Timeout)
	defer stopWatch()
	cmd := exec.CommandContext(ctx, bin, "-run", e.Name)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = os.Environ()
	if tmp != "" {
		// The agent saves evidence under $TMPDIR; keep it in ours, removed at the end.
		dir := filepath.Join(tmp, e.Name)
		if err := os.Mkdir(dir, 0o700); err == nil {
			cmd.Env = append(cmd.Env, "TMPDIR="+dir)
		}
	}
	setDeathSignal(cmd)
	var stderr tailBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		r.Err, r.Exited = err.Error(), true
		return r
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.Err, r.Exited = err.Error(), true
		return r
	}
	r.PID = cmd.Process.Pid
	defer func() {
		cancel()
		err := cmd.Wait()
		r.Exited = true
		if r.Err == "" && watch.Err() == nil && err != nil {
			r.Err = fmt.Sprintf("exited: %v: %s", err, stderr.String())
		}
	}()

	// The first line carries the address; the end of stdout means the
	// program has exited (or is being killed).
	first, eof := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case first <- sc.Text():
			default:
			}
		}
	}()
	var addr string
	select {
	case line := <-first:
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "asyncmon-agent" {
			r.Err = fmt.Sprintf("no agent address on stdout (got %q): %s", line, stderr.String())
			return r
		}
		addr, r.GoVersion = f[1], f[2]
	case <-watch.Done():
		r.Err = "no agent address before the timeout: " + stderr.String()
		return r
	case <-eof:
		r.Err = "exited before printing the agent's address: " + stderr.String()
		return r
	}

	client := &http.Client{Timeout: 5 * time.Second}
	seen := map[string]bool{}
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	for {
		select {
		case <-watch.Done():
			if r.Polls == 0 && r.Err == "" {
				r.Err = "the findings were never read: " + stderr.String()
			}
			if ctx.Err() == nil {
				r.Stuck = stuck(ctx, client, addr, e.Sites)
			}
			return r
		case <-eof:
			if watch.Err() == nil {
				r.Err = "exited during the watch: " + stderr.String()
				return r
			}
			continue
		case <-tick.C:
		}
		fs, err := findings(watch, client, addr)
		if err != nil {
			continue // a slow answer under load, or the end: poll again
		}
		r.Polls++
		after := time.Since(start)
		for _, f := range fs {
			if f.State != model.StateFiring || f.Level.Rank() < model.LevelWarning.Rank() || seen[f.ID] {
				continue
			}
			a := Alarm{Detector: f.Detector, Level: f.Level, Subject: f.Subject, Title: f.Title, After: after}
			if !e.Healthy() && names(f, e.Sites) {
				if !r.Found {
					r.Found, r.FoundAfter, r.FoundBy = true, after, &a
				}
				seen[f.ID] = true
				continue
			}
			seen[f.ID] = true
			r.Alarms = append(r.Alarms, a)
		}
	}
}

// names reports whether a finding names one of the sites: in its subject,
// title or summary, or as the top user frame of one of its stacks.
func names(f model.Finding, sites []corpus.Site) bool {
	text := f.Subject + "\n" + f.Title + "\n" + f.Summary
	for _, s := range sites {
		if s.MatchText(text) {
			return true
		}
		for _, st := range f.Evidence.Stacks {
			for _, fr := range st.Frames {
				if model.IsUserFunc(fr.Func) {
					if s.MatchFrame(fr) {
						return true
					}
					break
				}
			}
		}
	}
	return false
}

func findings(ctx context.Context, c *http.Client, addr string) ([]model.Finding, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/findings", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/findings: %s", resp.Status)
	}
	var fs []model.Finding
	if err := json.NewDecoder(resp.Body).Decode(&fs); err != nil {
		return nil, fmt.Errorf("GET /api/v1/findings: %w", err)
	}
	return fs, nil
}

// stuck reads the program's goroutine profile (debug=1: one record per
// distinct stack, with its count) and counts the goroutines with a frame
// at a marked site's file:line.
func stuck(ctx context.Context, c *http.Client, addr string, sites []corpus.Site) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return -1
	}
	resp, err := c.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	n, count, counted := 0, 0, false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, " @ 0x") { // "12 @ 0x43a1b0 0x4402a5 ..."
			count, counted = 0, false
			fmt.Sscan(line, &count)
			continue
		}
		// "#\t0x4a1b2c\tpkg.fn+0x45\t/path/file.go:43"
		f := strings.Split(line, "\t")
		if counted || len(f) < 4 || f[0] != "#" {
			continue
		}
		file, ln, ok := strings.Cut(strings.TrimSpace(f[3]), ":")
		if !ok {
			continue
		}
		var lnum int
		fmt.Sscan(ln, &lnum)
		for _, s := range sites {
			if s.MatchFrame(model.Frame{File: file, Line: lnum}) {
				n += count
				counted = true
				break
			}
		}
	}
	if sc.Err() != nil {
		return -1
	}
	return n
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if t.buf.Len() > 8192 {
		b := t.buf.Bytes()[t.buf.Len()-4096:]
		t.buf.Reset()
		t.buf.Write(b)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.buf.String())
}
