package capture

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/asyncmon/asyncmon/model"
	"github.com/google/pprof/profile"
)

// hot is what a CPU profile says about where the CPU went.
type hot struct {
	// lines name the hottest functions, with file:line and share.
	lines []string
	// site is the file:line of the hottest line of the service's own
	// hottest function (with callees), if it has 10% or more.
	site string
	// stack is the hottest sample's stack.
	stack model.Stack
}

// hottest reads a CPU profile and names the service's own n hottest
// functions with what they call, then the n hottest by self time, each
// with the file:line of its hottest line, and the stack of the hottest
// sample. Runtime and asyncmon's own functions are left out when others
// are hot: they are rarely what to fix.
func hottest(data []byte, n int) (hot, error) {
	var h hot
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return h, fmt.Errorf("parse cpu profile: %w", err)
	}
	vi := len(p.SampleType) - 1 // cpu nanoseconds is the last value
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			vi = i
		}
	}
	type fn struct {
		name    string
		frame   model.Frame // for its classification
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
			f = &fn{name: ln.Function.Name, frame: frameOf(ln), lines: make(map[string]int64)}
			byFunc[ln.Function.Name] = f
		}
		f.flat += v
		f.lines[fmt.Sprintf("%s:%d", ln.Function.Filename, ln.Line)] += v
		if !isSystemFunc(frameOf(ln)) && (hotSample == nil || v > hotSample.Value[vi]) {
			hotSample = s
		}
	}
	if total == 0 {
		return h, nil
	}
	// The service's own code is what its owners can change: attribute
	// each sample to its innermost non-standard-library frame too.
	mine := make(map[string]int64)                 // function -> cumulative
	mineLines := make(map[string]map[string]int64) // function -> line -> cumulative
	var mineTotal int64
	for _, s := range p.Sample {
		if len(s.Value) <= vi {
			continue
		}
	sample:
		for _, loc := range s.Location {
			for _, ln := range loc.Line {
				if ln.Function != nil && frameOf(ln).IsUser() {
					name := ln.Function.Name
					mine[name] += s.Value[vi]
					if mineLines[name] == nil {
						mineLines[name] = make(map[string]int64)
					}
					mineLines[name][fmt.Sprintf("%s:%d", ln.Function.Filename, ln.Line)] += s.Value[vi]
					mineTotal += s.Value[vi]
					break sample
				}
			}
		}
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
		if !isSystemFunc(f.frame) {
			user++
		}
	}
	slices.SortFunc(fs, func(a, b *fn) int { return cmp.Or(cmp.Compare(b.flat, a.flat), cmp.Compare(a.name, b.name)) })
	var out []string
	if mineTotal > 0 {
		sites := make([]string, 0, len(mine))
		for k := range mine {
			sites = append(sites, k)
		}
		slices.SortFunc(sites, func(a, b string) int { return cmp.Or(cmp.Compare(mine[b], mine[a]), cmp.Compare(a, b)) })
		for i, k := range sites[:min(len(sites), n)] {
			share := 100 * float64(mine[k]) / float64(total)
			if share < 1 {
				break // sorted: the rest are below 1% too
			}
			out = append(out, fmt.Sprintf("%s (%s) %.0f%% with callees", k, topKey(mineLines[k]), share))
			if i == 0 && share >= 10 {
				h.site = topKey(mineLines[k])
			}
		}
	}
	for _, f := range fs {
		if len(out) == 2*n {
			break
		}
		if user > 0 && isSystemFunc(f.frame) {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s) %.0f%% self", f.name, f.topLine, 100*float64(f.flat)/float64(total)))
	}
	h.lines = out
	if hotSample != nil {
		h.stack.Label = "hottest CPU sample stack"
		for _, loc := range hotSample.Location {
			for _, ln := range loc.Line {
				if ln.Function != nil {
					h.stack.Frames = append(h.stack.Frames, frameOf(ln))
				}
			}
		}
	}
	return h, nil
}

// isSystemFunc reports functions that are rarely what to fix: the
// plumbing (the runtime and the packages goroutines run through) and
// asyncmon's own agent and collectors (not their tests).
func isSystemFunc(f model.Frame) bool {
	c := f.Code()
	return c == model.PlumbingCode || c == model.OwnCode
}

// topKey returns the key with the largest value, the smallest key on ties.
func topKey(m map[string]int64) string {
	var best string
	var bv int64
	for k, v := range m {
		if v > bv || v == bv && k < best {
			best, bv = k, v
		}
	}
	return best
}

// frameOf is a profile line as a frame.
func frameOf(ln profile.Line) model.Frame {
	return model.Frame{Func: ln.Function.Name, File: ln.Function.Filename, Line: int(ln.Line)}
}
