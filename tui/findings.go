package tui

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui/widget"
)

// findingsView lists findings, firing first; Enter opens one with its
// plain-words summary and evidence, where s saves its captures locally.
type findingsView struct {
	pages   *switcher
	header  *tview.TextView
	table   *widget.Table[model.Finding]
	layout  *tview.Flex
	detail  *tview.TextView
	focus   func(tview.Primitive)
	save    func(f model.Finding)
	now     func() time.Time
	showing string // ID of the finding whose details are open
}

func stateRank(s model.State) int {
	switch s {
	case model.StateFiring:
		return 3
	case model.StatePending:
		return 2
	case model.StateResolved:
		return 1
	}
	return 0
}

// firingFindings returns the firing findings, most severe first, then
// oldest first.
func firingFindings(all []model.Finding) []model.Finding {
	var out []model.Finding
	for _, f := range all {
		if f.State == model.StateFiring {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b model.Finding) int {
		if c := cmp.Compare(b.Level.Rank(), a.Level.Rank()); c != 0 {
			return c
		}
		return a.FirstSeen.Compare(b.FirstSeen)
	})
	return out
}

func findingColumns(now func() time.Time) []widget.Column[model.Finding] {
	type F = model.Finding
	return []widget.Column[model.Finding]{
		{Title: "STATE", Width: 9, Text: func(f F) string { return string(f.State) },
			// Firing before pending before resolved, then by level.
			Cmp: func(a, b F) int {
				if c := cmp.Compare(stateRank(a.State), stateRank(b.State)); c != 0 {
					return c
				}
				return cmp.Compare(a.Level.Rank(), b.Level.Rank())
			},
			Color: func(f F) tcell.Color {
				if f.State == model.StateResolved {
					return tcell.ColorGray
				}
				return tcell.ColorDefault
			}},
		{Title: "LEVEL", Width: 11, Text: func(f F) string { _, sym := levelTag(f.Level); return sym + " " + string(f.Level) },
			Num: widget.NumOf(func(f F) int { return f.Level.Rank() }),
			Color: func(f F) tcell.Color {
				switch f.Level {
				case model.LevelCritical:
					return tcell.ColorRed
				case model.LevelWarning:
					return tcell.ColorYellow
				}
				return tcell.ColorAqua
			}},
		{Title: "TITLE", Expand: 3, MaxWidth: 80, Text: func(f F) string { return f.Title }, Cmp: widget.CmpStr(func(f F) string { return f.Title })},
		{Title: "SUBJECT", Expand: 1, MaxWidth: 40, TrimLeft: true, Text: func(f F) string { return f.Subject }, Cmp: widget.CmpStr(func(f F) string { return f.Subject })},
		{Title: "SINCE", Right: true, Width: 7, Text: func(f F) string { return model.FormatDuration(now().Sub(f.FirstSeen)) },
			Cmp: func(a, b F) int { return b.FirstSeen.Compare(a.FirstSeen) }},
	}
}

func newFindingsView(focus func(tview.Primitive), save func(model.Finding), now func() time.Time) *findingsView {
	v := &findingsView{focus: focus, save: save, now: now}
	v.table = widget.NewTable(findingColumns(now), 0, true, func(f model.Finding) string { return f.ID })
	v.header = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	v.detail = tview.NewTextView().SetDynamicColors(true).SetWordWrap(true)
	v.detail.SetBorder(true).SetTitle(" finding — s saves captures, Esc goes back ")
	v.detail.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		switch {
		case ev.Key() == tcell.KeyEscape || ev.Key() == tcell.KeyBackspace || ev.Key() == tcell.KeyBackspace2:
			v.closeDetail()
			return nil
		case ev.Key() == tcell.KeyRune && ev.Rune() == 's':
			if f, ok := v.current(); ok {
				v.save(f)
			}
			return nil
		}
		return ev
	})
	v.layout = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(v.header, 1, 0, false).
		AddItem(v.table.View, 0, 1, true)
	v.table.View.SetSelectedFunc(func(int, int) { v.openDetail() })
	v.pages = newSwitcher(v.layout)
	return v
}

func (v *findingsView) primitive() tview.Primitive { return v.pages }

func (v *findingsView) focusTarget() tview.Primitive {
	if v.showing != "" {
		return v.detail
	}
	return v.table.View
}

// current is the finding whose details are open.
func (v *findingsView) current() (model.Finding, bool) {
	for _, f := range v.table.All {
		if f.ID == v.showing {
			return f, true
		}
	}
	return model.Finding{}, false
}

func (v *findingsView) openDetail() {
	f, ok := v.table.Selected()
	if !ok {
		return
	}
	v.showing = f.ID
	v.detail.SetText(findingDetail(f, v.now()))
	v.detail.ScrollToBeginning()
	v.pages.show(v.detail)
	v.focus(v.detail)
}

func (v *findingsView) closeDetail() {
	v.showing = ""
	v.pages.show(v.layout)
	v.focus(v.table.View)
}

func (v *findingsView) render(fr frame) {
	v.table.SetRows(fr.findings)
	firing := 0
	for _, f := range fr.findings {
		if f.State == model.StateFiring {
			firing++
		}
	}
	switch why, ok := fr.status.Unavailable[ViewFindings]; {
	case ok:
		v.header.SetText("[yellow]" + tview.Escape(why) + "[-]")
	case len(fr.findings) == 0:
		v.header.SetText("[green]✓ no findings[-]")
	default:
		v.header.SetText(fmt.Sprintf("[::b]%d findings, %d firing[::-]  [gray]Enter details  < > sort  r reverse[-]", len(fr.findings), firing))
	}
	if v.showing != "" {
		if f, ok := v.current(); ok {
			v.detail.SetText(findingDetail(f, v.now()))
		}
	}
}

// findingDetail renders one finding: the plain-words summary first, then
// the evidence.
func findingDetail(f model.Finding, now time.Time) string {
	var b strings.Builder
	tag, sym := levelTag(f.Level)
	fmt.Fprintf(&b, "%s%s %s[-:-:-]\n", tag, sym, tview.Escape(f.Title))
	fmt.Fprintf(&b, "[gray]%s %s from %s, first seen %s ago, last seen %s ago",
		f.Level, f.State, tview.Escape(f.Detector), model.FormatDuration(now.Sub(f.FirstSeen)), model.FormatDuration(now.Sub(f.LastSeen)))
	if !f.ResolvedAt.IsZero() {
		fmt.Fprintf(&b, ", resolved %s ago", model.FormatDuration(now.Sub(f.ResolvedAt)))
	}
	fmt.Fprintf(&b, "[-]\n[yellow]subject[-] %s\n\n%s\n", tview.Escape(f.Subject), tview.Escape(f.Summary))
	ev := f.Evidence
	if len(ev.Numbers) > 0 {
		b.WriteString("\n[::b]numbers[::-]\n")
		for _, k := range slices.Sorted(maps.Keys(ev.Numbers)) {
			fmt.Fprintf(&b, "  %-40s %s\n", tview.Escape(k), fmtEvidence(k, ev.Numbers[k]))
		}
	}
	if len(ev.Notes) > 0 {
		b.WriteString("\n[::b]notes[::-]\n")
		for _, n := range ev.Notes {
			fmt.Fprintf(&b, "  • %s\n", tview.Escape(n))
		}
	}
	if len(ev.Captures) > 0 {
		fmt.Fprintf(&b, "\n[::b]captures[::-] (s saves them to the current directory)\n  %s\n", tview.Escape(strings.Join(ev.Captures, "\n  ")))
	}
	for _, st := range ev.Stacks {
		fmt.Fprintf(&b, "\n[::b]%s[::-]\n", tview.Escape(st.Label))
		for _, fr := range st.Frames {
			fmt.Fprintf(&b, "  %s\n      [gray]%s[-]\n", tview.Escape(fr.Func), tview.Escape(fr.Site()))
		}
	}
	return b.String()
}

// fmtEvidence formats an evidence number by the unit its key names.
func fmtEvidence(key string, v float64) string {
	switch {
	case strings.HasSuffix(key, "_seconds"):
		return model.FormatSeconds(v)
	case strings.HasSuffix(key, "_bytes"):
		return model.FormatBytes(v)
	case strings.HasSuffix(key, "_ratio") || strings.HasSuffix(key, "_fraction"):
		return fmtPercent(v)
	}
	return fmt.Sprintf("%.4g", v)
}
