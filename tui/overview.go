package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui/widget"
)

// overview is the first view: firing findings on top, then sparklines of
// scheduler latency, probe lag, goroutines by state, GC and stop-the-world
// pauses over the kept history. It draws itself at the width it is given,
// so it reads on 80 columns and uses the room of a wide terminal.
type overview struct {
	box *tview.Box
	f   frame
	now func() time.Time
}

// labelWidth is the width of the row labels; valueWidth of the numbers
// printed after each sparkline.
const (
	labelWidth = 20
	valueWidth = 32
)

func newOverview(now func() time.Time) *overview {
	v := &overview{box: tview.NewBox(), now: now}
	v.box.SetDrawFunc(v.draw)
	return v
}

func (v *overview) primitive() tview.Primitive { return v.box }

func (v *overview) render(f frame) { v.f = f }

func (v *overview) draw(screen tcell.Screen, x, y, width, height int) (int, int, int, int) {
	for i, line := range v.lines(width) {
		if i >= height {
			break
		}
		tview.Print(screen, line, x, y+i, width, tview.AlignLeft, tcell.ColorWhite)
	}
	return x, y, width, height
}

// lines renders the overview as tagged text lines for the given width.
func (v *overview) lines(width int) []string {
	var out []string
	out = append(out, v.findingLines()...)
	out = append(out, "")
	hist := v.f.history
	last := v.f.latest()
	if last == nil {
		return append(out, " [gray]waiting for the first snapshot…[-]")
	}
	// partial: the source cannot feed the runtime rows (a pprof-only
	// target); showing them as flat zeros would lie.
	why, partial := v.f.status.Unavailable[ViewOverview]
	if partial {
		out = append(out, " [yellow]"+tview.Escape(why)+"[-]")
	}
	if len(hist) > 1 {
		out = append(out, fmt.Sprintf(" [::b]over the last %s (%d samples)[::-]", model.FormatDuration(last.Time.Sub(hist[0].Time)), len(hist)))
	} else {
		out = append(out, " [::b]first sample; trends need a second one[::-]")
	}

	sw := max(width-labelWidth-valueWidth-2, 8)
	series := func(get func(*model.Snapshot) float64) []float64 {
		vals := make([]float64, len(hist))
		for i, s := range hist {
			vals[i] = get(s)
		}
		return widget.BucketMax(vals, sw)
	}
	row := func(label string, vals []float64, top float64, value string) string {
		return fmt.Sprintf(" %-*s[green]%-*s[-] %s", labelWidth-1, label, sw, widget.Sparkline(vals, top), value)
	}

	sc := last.Scheduler
	if !partial {
		p50 := series(func(s *model.Snapshot) float64 { return s.Scheduler.LatencyP50 })
		p99 := series(func(s *model.Snapshot) float64 { return s.Scheduler.LatencyP99 })
		top := widget.MaxOf(p99)
		out = append(out,
			row("sched latency p50", p50, top, model.FormatSeconds(sc.LatencyP50)),
			row("sched latency p99", p99, top, fmt.Sprintf("%s  max %s", model.FormatSeconds(sc.LatencyP99), model.FormatSeconds(top))))
		lag := series(func(s *model.Snapshot) float64 { return s.Scheduler.ProbeLagP99 })
		out = append(out, row("probe lag p99", lag, widget.MaxOf(lag),
			fmt.Sprintf("%s  max %s", model.FormatSeconds(sc.ProbeLagP99), model.FormatSeconds(sc.ProbeLagMax))))
	}

	g := last.Goroutines
	total := series(func(s *model.Snapshot) float64 { return float64(s.Goroutines.Total) })
	gtop := widget.MaxOf(total)
	runnable := series(func(s *model.Snapshot) float64 { return float64(s.Goroutines.Runnable + s.Goroutines.Running) })
	waiting := series(func(s *model.Snapshot) float64 { return float64(s.Goroutines.Waiting) })
	created := fmt.Sprintf("%d  %s/s new", g.Total, strconv.FormatFloat(g.CreatedRate, 'f', 0, 64))
	if partial {
		created = strconv.Itoa(g.Total) // dumps do not tell the creation rate
	}
	out = append(out,
		row("goroutines", total, gtop, created),
		row("  running+runnable", runnable, gtop, fmt.Sprintf("%d+%d", g.Running, g.Runnable)),
		row("  waiting", waiting, gtop, fmt.Sprintf("%d  syscall %d", g.Waiting, g.NotInGo)))

	if partial {
		return out
	}
	gc := series(func(s *model.Snapshot) float64 { return s.GC.CPUFraction })
	pause := series(func(s *model.Snapshot) float64 { return s.Scheduler.PauseMax })
	out = append(out,
		row("GC CPU", gc, max(widget.MaxOf(gc), 0.05), fmt.Sprintf("%s  heap %s/%s", fmtPercent(last.GC.CPUFraction),
			model.FormatBytes(float64(last.GC.HeapBytes)), model.FormatBytes(float64(last.GC.GoalBytes)))),
		row("STW pause max", pause, widget.MaxOf(pause), fmt.Sprintf("%s  ×%d", model.FormatSeconds(sc.PauseMax), sc.PauseCount)))

	p := last.Process
	out = append(out, "", fmt.Sprintf(" [::b]%s[::-] pid %d  %s  GOMAXPROCS %d  cpu %.2f cores  threads %d  fds %d/%d",
		tview.Escape(p.Program), p.PID, p.GoVersion, p.GOMAXPROCS, p.CPUUtilization, p.Threads, p.FDs, p.FDLimit))
	if p.Cgroup != nil && p.Cgroup.QuotaCores > 0 {
		out = append(out, fmt.Sprintf(" cgroup quota %.2f cores  throttled %s total", p.Cgroup.QuotaCores, model.FormatSeconds(p.Cgroup.ThrottledSecondsTotal)))
	}
	var failing []string
	for _, c := range last.Collectors {
		if c.Err != "" {
			failing = append(failing, c.Name+": "+c.Err)
		}
	}
	if len(failing) > 0 {
		out = append(out, " [yellow]collector errors: "+tview.Escape(strings.Join(failing, "; "))+"[-]")
	}
	return out
}

// maxOverviewFindings bounds the findings shown on top of the overview;
// the Findings view has them all.
const maxOverviewFindings = 4

// findingLines lists the firing findings, most severe first.
func (v *overview) findingLines() []string {
	firing := firingFindings(v.f.findings)
	if len(firing) == 0 {
		if _, ok := v.f.status.Unavailable[ViewFindings]; ok {
			return []string{" [gray]findings: not available from this target[-]"}
		}
		return []string{" [green]✓ no firing findings[-]"}
	}
	out := []string{fmt.Sprintf(" [::b]%d firing finding(s)[::-]  (5 or f for details)", len(firing))}
	now := v.now()
	for i, f := range firing {
		if i == maxOverviewFindings {
			out = append(out, fmt.Sprintf("   … and %d more", len(firing)-i))
			break
		}
		tag, sym := levelTag(f.Level)
		where := ""
		if !strings.Contains(f.Title, f.Subject) { // titles often name it already
			where = tview.Escape(f.Subject) + ", "
		}
		out = append(out, fmt.Sprintf(" %s%s %s[-:-:-] [gray]%ssince %s[-]", tag, sym,
			tview.Escape(f.Title), where, model.FormatDuration(now.Sub(f.FirstSeen))))
	}
	return out
}
