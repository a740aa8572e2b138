package runner

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

// Run set: the results of the whole corpus under one Go version.
type Set struct {
	// GoVersion is the programs' runtime.Version().
	GoVersion string   `json:"go_version"`
	Results   []Result `json:"results"`
}

// Row is one line of the summary: a class, or a total.
type Row struct {
	Class    string `json:"class"`
	Programs int    `json:"programs"`
	// Per set, in order: programs found, the median time to find them,
	// and the firing warning/critical findings that named no marked site
	// (on healthy programs: false alarms), with the programs that had one.
	Found       []int           `json:"found"`
	Median      []time.Duration `json:"median_ns"`
	Alarms      []int           `json:"alarms"`
	AlarmedProg []int           `json:"alarmed_programs"`
	Errors      []int           `json:"errors"`
}

// Summarize builds the rows: each class, then all buggy programs, those
// whose leak the GC can prove and those it cannot, then healthy.
func Summarize(sets []Set) []Row {
	if len(sets) == 0 {
		return nil
	}
	type group struct {
		name string
		keep func(Result) bool
	}
	var groups []group
	for _, c := range corpus.Classes {
		if c == corpus.Healthy {
			continue
		}
		groups = append(groups, group{c, func(r Result) bool { return r.Class == c }})
	}
	groups = append(groups,
		group{"all bugs", func(r Result) bool { return !r.Healthy() }},
		group{"  GC can prove", func(r Result) bool { return !r.Healthy() && r.Reachable == "" }},
		group{"  still reachable", func(r Result) bool { return !r.Healthy() && r.Reachable != "" }},
		group{corpus.Healthy, func(r Result) bool { return r.Healthy() }},
	)
	var rows []Row
	for _, g := range groups {
		row := Row{Class: g.name}
		for si, s := range sets {
			var found, alarms, alarmed, errs int
			var times []time.Duration
			n := 0
			for _, r := range s.Results {
				if !g.keep(r) {
					continue
				}
				n++
				if r.Found {
					found++
					times = append(times, r.FoundAfter)
				}
				alarms += len(r.Alarms)
				if len(r.Alarms) > 0 {
					alarmed++
				}
				if r.Err != "" {
					errs++
				}
			}
			if si == 0 {
				row.Programs = n
			}
			row.Found = append(row.Found, found)
			row.Median = append(row.Median, median(times))
			row.Alarms = append(row.Alarms, alarms)
			row.AlarmedProg = append(row.AlarmedProg, alarmed)
			row.Errors = append(row.Errors, errs)
		}
		if row.Programs > 0 {
			rows = append(rows, row)
		}
	}
	return rows
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func recall(found, n int, med time.Duration) string {
	if n == 0 {
		return "–"
	}
	s := fmt.Sprintf("%d/%d (%d%%)", found, n, found*100/n)
	if found > 0 {
		s += fmt.Sprintf(", median %s", med.Round(time.Second))
	}
	return s
}

func alarms(row Row, i int) string {
	if row.Alarms[i] == 0 {
		return "0"
	}
	return fmt.Sprintf("%d on %d", row.Alarms[i], row.AlarmedProg[i])
}

// header names each set by its Go version.
func header(sets []Set) (recallCols, alarmCols []string) {
	for _, s := range sets {
		v := s.GoVersion
		if v == "" {
			v = "?"
		}
		recallCols = append(recallCols, "recall "+v)
		alarmCols = append(alarmCols, "wrong-site or false alarms "+v)
	}
	return
}

func cells(row Row, healthy bool) []string {
	var c []string
	for i := range row.Found {
		if healthy {
			c = append(c, "–")
		} else {
			c = append(c, recall(row.Found[i], row.Programs, row.Median[i]))
		}
	}
	for i := range row.Found {
		a := alarms(row, i)
		if row.Errors[i] > 0 {
			a += fmt.Sprintf(" (%d errors)", row.Errors[i])
		}
		c = append(c, a)
	}
	return c
}

// Text writes the summary as an aligned table, then every alarm and miss.
func Text(w io.Writer, sets []Set) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rc, ac := header(sets)
	fmt.Fprintln(tw, strings.Join(append(append([]string{"class", "programs"}, rc...), ac...), "\t"))
	for _, row := range Summarize(sets) {
		fmt.Fprintln(tw, strings.Join(append([]string{row.Class, fmt.Sprint(row.Programs)}, cells(row, row.Class == corpus.Healthy)...), "\t"))
	}
	tw.Flush()
	for _, s := range sets {
		fmt.Fprintf(w, "\n%s:\n", s.GoVersion)
		for _, r := range s.Results {
			if r.Err != "" || len(r.Alarms) > 0 || (!r.Healthy() && !r.Found) {
				fmt.Fprintln(w, "  "+strings.ReplaceAll(r.line(), "\n", "\n  "))
			}
		}
	}
}

// Markdown writes the summary as a Markdown table, ready to paste into
// docs/detectors/README.md.
func Markdown(w io.Writer, sets []Set) {
	rc, ac := header(sets)
	cols := append(append([]string{"class", "programs"}, rc...), ac...)
	fmt.Fprintln(w, "| "+strings.Join(cols, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat("---|", len(cols)))
	for _, row := range Summarize(sets) {
		name := row.Class
		if strings.HasPrefix(name, "  ") {
			name = "↳ " + strings.TrimSpace(name)
		} else if name == "all bugs" {
			name = "**all bugs**"
		}
		fmt.Fprintln(w, "| "+strings.Join(append([]string{name, fmt.Sprint(row.Programs)}, cells(row, row.Class == corpus.Healthy)...), " | ")+" |")
	}
	for _, s := range sets {
		var missed, alarmed, broken []string
		for _, r := range s.Results {
			switch {
			case r.Err != "":
				broken = append(broken, fmt.Sprintf("`%s` (%s)", r.Name, r.Err))
			case !r.Healthy() && !r.Found:
				missed = append(missed, "`"+r.Name+"`")
			}
			for _, a := range r.Alarms {
				alarmed = append(alarmed, fmt.Sprintf("`%s`: %s %s at %s", r.Name, a.Detector, a.Level, shortPath(a.Subject)))
			}
		}
		fmt.Fprintf(w, "\n%s: missed %s.", s.GoVersion, orNone(missed))
		if len(alarmed) > 0 {
			fmt.Fprintf(w, " Alarms: %s.", strings.Join(alarmed, "; "))
		}
		if len(broken) > 0 {
			fmt.Fprintf(w, " Errors: %s.", strings.Join(broken, "; "))
		}
		fmt.Fprintln(w)
	}
}

// shortPath cuts a site's file to start at the corpus's progs/ or at the
// Go tree's src/, so that the table does not carry this machine's paths.
func shortPath(site string) string {
	if i := strings.LastIndex(site, "/progs/"); i >= 0 {
		return site[i+1:]
	}
	if i := strings.LastIndex(site, "/src/"); i >= 0 {
		return "$GOROOT" + site[i:]
	}
	return site
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
