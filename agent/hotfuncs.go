package agent

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/asyncmon/asyncmon/model"
	"github.com/google/pprof/profile"
)

// hottest reads a CPU profile and names its n hottest functions by flat
// (self) CPU time, each with the file:line of its hottest line, and returns
// the stack of the hottest sample. Runtime and asyncmon's own functions
// are left out when user functions are hot: they are rarely what to fix.
func hottest(data []byte, n int) ([]string, model.Stack, error) {
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, model.Stack{}, fmt.Errorf("parse cpu profile: %w", err)
	}
	vi := len(p.SampleType) - 1 // cpu nanoseconds is the last value
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			vi = i
		}
	}
	type fn struct {
		name    string
		flat    int64
		lines   map[string]int64
		topLine string
	}
	byFunc := make(map[string]*fn)
	var total int64
	var hotSample *profile.Sample
	for _, s := range p.Sample {
		if len(s.Value) <= vi || len(s.Location) == 0 {
			continue
		}
		v := s.Value[vi]
		total += v
		loc := s.Location[0]
		if len(loc.Line) == 0 || loc.Line[0].Function == nil {
			continue
		}
		ln := loc.Line[0]
		f := byFunc[ln.Function.Name]
		if f == nil {
			f = &fn{name: ln.Function.Name, lines: make(map[string]int64)}
			byFunc[ln.Function.Name] = f
		}
		f.flat += v
		f.lines[fmt.Sprintf("%s:%d", ln.Function.Filename, ln.Line)] += v
		if !isSystemFunc(ln.Function.Name) && (hotSample == nil || v > hotSample.Value[vi]) {
			hotSample = s
		}
	}
	if total == 0 {
		return nil, model.Stack{}, nil
	}
	fs := make([]*fn, 0, len(byFunc))
	user := 0
	for _, f := range byFunc {
		var best int64
		for l, v := range f.lines {
			if v > best || v == best && l < f.topLine {
				best, f.topLine = v, l
			}
		}
		fs = append(fs, f)
		if !isSystemFunc(f.name) {
			user++
		}
	}
	slices.SortFunc(fs, func(a, b *fn) int { return cmp.Or(cmp.Compare(b.flat, a.flat), cmp.Compare(a.name, b.name)) })
	var out []string
	for _, f := range fs {
		if len(out) == n {
			break
		}
		if user > 0 && isSystemFunc(f.name) {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s) %.0f%%", f.name, f.topLine, 100*float64(f.flat)/float64(total)))
	}
	var st model.Stack
	if hotSample != nil {
		st.Label = "hottest CPU sample stack"
		for _, loc := range hotSample.Location {
			for _, ln := range loc.Line {
				if ln.Function != nil {
					st.Frames = append(st.Frames, model.Frame{Func: ln.Function.Name, File: ln.Function.Filename, Line: int(ln.Line)})
				}
			}
		}
	}
	return out, st, nil
}

// isSystemFunc reports functions of the runtime and of asyncmon itself.
func isSystemFunc(name string) bool {
	return strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "runtime/") ||
		strings.HasPrefix(name, "github.com/asyncmon/asyncmon/agent") ||
		strings.HasPrefix(name, "github.com/asyncmon/asyncmon/collectors")
}
