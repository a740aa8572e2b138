// Package report writes what the command line prints for a person to
// read: a snapshot's summary and findings with their evidence. The JSON
// forms are the model's own.
package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/model"
)

// Snapshot writes a readable summary of s, as "asyncmon snapshot"
// prints it.
func Snapshot(w io.Writer, s *model.Snapshot) error {
	p, sc, g := s.Process, s.Scheduler, s.Goroutines
	fmt.Fprintf(w, "%s (pid %d, %s) at %s, collection #%d\n\n",
		p.Program, p.PID, p.GoVersion, s.Time.Format(time.DateTime), s.Seq)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scheduler latency\tp50 %s\tp90 %s\tp99 %s\tmax %s\t(%d events)\n",
		model.FormatSeconds(sc.LatencyP50), model.FormatSeconds(sc.LatencyP90), model.FormatSeconds(sc.LatencyP99), model.FormatSeconds(sc.LatencyMax), sc.LatencyCount)
	if sc.ProbePeriod > 0 {
		fmt.Fprintf(tw, "timer probe lag\tp50 %s\tp99 %s\tmax %s\t\t(%d wakes every %s)\n",
			model.FormatSeconds(sc.ProbeLagP50), model.FormatSeconds(sc.ProbeLagP99), model.FormatSeconds(sc.ProbeLagMax), sc.ProbeSamples, model.FormatSeconds(sc.ProbePeriod))
	}
	fmt.Fprintf(tw, "stop-the-world\tmax %s\t%d pauses\t\t\t\n", model.FormatSeconds(sc.PauseMax), sc.PauseCount)
	fmt.Fprintf(tw, "goroutines\t%d total\trunnable %d\trunning %d\twaiting %d\tnot-in-go %d, created %.0f/s\n",
		g.Total, g.Runnable, g.Running, g.Waiting, g.NotInGo, g.CreatedRate)
	fmt.Fprintf(tw, "process\tGOMAXPROCS %d\tthreads %d\tCPU %.2f cores\tfds %d/%d\t\n",
		p.GOMAXPROCS, p.Threads, p.CPUUtilization, p.FDs, p.FDLimit)
	fmt.Fprintf(tw, "gc\tCPU %.1f%%\tassist %.1f%%\theap %s\tgoal %s\t\n",
		100*s.GC.CPUFraction, 100*s.GC.AssistFraction, model.FormatBytes(float64(s.GC.HeapBytes)), model.FormatBytes(float64(s.GC.GoalBytes)))
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := connections(w, s.Connections); err != nil {
		return err
	}
	var cols []string
	for _, c := range s.Collectors {
		e := ""
		if c.Err != "" {
			e = " (error: " + c.Err + ")"
		}
		cols = append(cols, fmt.Sprintf("%s %s%s", c.Name, model.FormatSeconds(c.DurationSeconds), e))
	}
	_, err := fmt.Fprintf(w, "\ncollectors: %s\n", strings.Join(cols, ", "))
	return err
}

// connections writes the tracked connections of a snapshot as a
// table of its own: open and leaked counts by kind, then one row per pool.
// It writes nothing when no connection or pool is tracked.
func connections(w io.Writer, cs model.Connections) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var open, leaked []string
	for _, k := range model.ConnKinds() {
		if n := cs.OpenByKind[k]; n > 0 {
			open = append(open, fmt.Sprintf("%s %d", k, n))
		}
		if n := cs.LeakedTotal[k]; n > 0 {
			leaked = append(leaked, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(open) == 0 && len(leaked) == 0 && len(cs.Pools) == 0 {
		return nil
	}
	fmt.Fprintln(tw)
	if len(open) > 0 || len(leaked) > 0 {
		if len(open) == 0 {
			open = []string{"none"}
		}
		if len(leaked) == 0 {
			leaked = []string{"none"}
		}
		fmt.Fprintf(tw, "connections\topen: %s\n", strings.Join(open, ", "))
		fmt.Fprintf(tw, "\tleaked: %s\n", strings.Join(leaked, ", "))
	}
	for _, p := range cs.Pools {
		limit := "unlimited"
		if p.MaxOpen > 0 {
			limit = fmt.Sprint(p.MaxOpen)
		}
		fmt.Fprintf(tw, "pool %s\tin use %d of %s, idle %d, waits %d (%s)\n",
			p.Name, p.InUse, limit, p.Idle, p.WaitCountTotal, model.FormatSeconds(p.WaitSecondsTotal))
	}
	return tw.Flush()
}

// Findings writes findings for a person to read, as "asyncmon findings"
// prints them; base is the agent's URL, for the captures' links.
func Findings(w io.Writer, fs []model.Finding, base string) error {
	if len(fs) == 0 {
		_, err := fmt.Fprintln(w, "No findings: nothing wrong detected.")
		return err
	}
	for i, f := range fs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		// FirstSeen is when the condition was first seen, before the
		// detector's "for" made it fire: the "since when" that matters.
		since := f.FirstSeen.Local().Format(time.DateTime)
		state := string(f.State)
		if f.State == model.StateResolved {
			state += " at " + f.ResolvedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(w, "%s %s [%s] %s\n", levelMark(f.Level), strings.ToUpper(string(f.Level)), f.Detector, f.Title)
		fmt.Fprintf(w, "  %s, first seen %s, subject %s", state, since, f.Subject)
		if f.Cause != "" {
			fmt.Fprintf(w, ", cause %s", f.Cause)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  %s\n", wrap(f.Summary, 100, "  "))
		for _, n := range f.Evidence.Notes {
			fmt.Fprintf(w, "  - %s\n", wrap(n, 98, "    "))
		}
		for _, s := range f.Evidence.Stacks {
			fmt.Fprintf(w, "  stack: %s\n", s.Label)
			for j, fr := range s.Frames {
				if j == 12 {
					fmt.Fprintf(w, "      ... %d more frames\n", len(s.Frames)-j)
					break
				}
				fmt.Fprintf(w, "      %s\n          %s\n", fr.Func, fr.Site())
			}
		}
		for _, id := range f.Evidence.Captures {
			fmt.Fprintf(w, "  capture: %s/api/v1/captures/%s\n", base, id)
		}
	}
	return nil
}

func levelMark(l model.Level) string {
	switch l {
	case model.LevelCritical:
		return "!!"
	case model.LevelWarning:
		return "! "
	}
	return "  "
}

// wrap breaks s into lines of at most width runes, indenting the
// continuation lines.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if n+1+len(word) > width {
				b.WriteString("\n" + indent)
				n = 0
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// Agents writes a table of local agents, as "asyncmon ls" prints it.
func Agents(w io.Writer, agents []client.LocalAgent) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tADDRESS\tPROGRAM\tSTARTED\tSTATUS")
	for _, a := range agents {
		status := "ok"
		if a.Err != "" {
			status = "not answering: " + a.Err
		}
		started := ""
		if !a.Started.IsZero() {
			started = a.Started.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", a.PID, a.Addr, a.Program, started, status)
	}
	tw.Flush()
}
