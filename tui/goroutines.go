package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui/widget"
)

// goroutinesView is the goroutine group table with a / filter and a
// details page per group (Enter opens it, Esc goes back).
type goroutinesView struct {
	pages   *switcher
	header  *tview.TextView
	table   *widget.Table[*model.GoroutineGroup]
	filter  *tview.InputField
	layout  *tview.Flex
	detail  *tview.TextView
	focus   func(tview.Primitive)
	f       frame
	showing string // key of the group whose details are open
	// shown is the last rendered state of that group.
	shown *model.GoroutineGroup
	// hay caches groupHaystack for the groups of the current sample, so
	// each keystroke in the filter costs a substring search per group.
	hay map[*model.GoroutineGroup]string
}

// matchGroup reports whether needle (lower case) appears in the group's
// haystack.
func (v *goroutinesView) matchGroup(g *model.GoroutineGroup, needle string) bool {
	h, ok := v.hay[g]
	if !ok {
		if v.hay == nil {
			v.hay = make(map[*model.GoroutineGroup]string)
		}
		h = groupHaystack(g)
		v.hay[g] = h
	}
	return strings.Contains(h, needle)
}

func groupColumns() []widget.Column[*model.GoroutineGroup] {
	type G = *model.GoroutineGroup
	return []widget.Column[*model.GoroutineGroup]{
		{Title: "COUNT", Right: true, Width: 6, Text: func(g G) string { return strconv.Itoa(g.Count) },
			Num: widget.NumOf(func(g G) int { return g.Count })},
		{Title: "Δ", Right: true, Width: 4, Text: func(g G) string { return fmtDelta(g.Delta) },
			Num: widget.NumOf(func(g G) int { return g.Delta }),
			Color: func(g G) tcell.Color {
				if g.Delta > 0 {
					return tcell.ColorYellow
				}
				return tcell.ColorGreen
			}},
		{Title: "STATE", Width: 12, Text: func(g G) string { return g.WaitReason }, Cmp: widget.CmpStr(func(g G) string { return g.WaitReason })},
		{Title: "WAIT", Right: true, Width: 6, Text: func(g G) string {
			if g.MaxWait == 0 {
				return ""
			}
			return model.FormatDuration(g.MaxWait)
		}, Num: widget.NumOf(func(g G) time.Duration { return g.MaxWait })},
		{Title: "PARKED IN", MaxWidth: 50, Expand: 3, Text: func(g G) string { return g.Site().ShortFunc() },
			Cmp: widget.CmpStr(func(g G) string { return g.Site().ShortFunc() })},
		{Title: "AT", MaxWidth: 32, Expand: 2, TrimLeft: true, Text: func(g G) string { return g.Site().ShortSite() },
			Cmp: widget.CmpStr(func(g G) string { return g.Site().Site() })},
		{Title: "CREATED BY", MaxWidth: 50, Expand: 2, Text: origin,
			Cmp: widget.CmpStr(origin)},
	}
}

// origin names a group's creator, or, where the sample has no creation
// sites (the concurrent goroutine profile), the function its goroutines
// started in, marked "started in".
func origin(g *model.GoroutineGroup) string {
	if g.CreatedBy.IsZero() && !g.Start.IsZero() {
		return "started in " + g.Start.ShortFunc()
	}
	return g.CreatedBy.ShortFunc()
}

// groupHaystack is the lower-case text the / filter searches in a group:
// its wait reason and the functions and files of its creation site, top
// frames and stack, and its labels.
func groupHaystack(g *model.GoroutineGroup) string {
	var b strings.Builder
	b.WriteString(g.WaitReason)
	add := func(f model.Frame) {
		b.WriteByte('\n')
		b.WriteString(f.Func)
		b.WriteByte(' ')
		b.WriteString(f.File)
	}
	add(g.CreatedBy)
	for _, f := range g.TopFrames {
		add(f)
	}
	for _, f := range g.Stack {
		add(f)
	}
	for k, v := range g.Labels {
		b.WriteString("\n" + k + "=" + v)
	}
	return strings.ToLower(b.String())
}

func newGoroutinesView(focus func(tview.Primitive)) *goroutinesView {
	v := &goroutinesView{focus: focus}
	v.table = widget.NewTable(groupColumns(), 0, true, func(g *model.GoroutineGroup) string { return g.Key })
	v.table.Match = v.matchGroup
	v.table.OnSort = v.updateHeader
	v.header = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	v.filter = tview.NewInputField().SetLabel("filter: ").SetFieldWidth(0)
	v.filter.SetChangedFunc(func(text string) {
		v.table.SetFilter(text)
		v.updateHeader()
	})
	// The label says whether keys go to the filter or to the table.
	v.filter.SetFocusFunc(func() { v.filter.SetLabel("filter: ") })
	v.filter.SetBlurFunc(func() { v.filter.SetLabel("filter (/ edits, Esc clears): ") })
	v.filter.SetDoneFunc(func(key tcell.Key) {
		if key == tcell.KeyEscape {
			v.filter.SetText("")
		}
		v.closeFilter()
	})
	v.detail = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	v.detail.SetBorder(true).SetTitle(" group — Esc to go back ")
	v.detail.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() == tcell.KeyEscape || ev.Key() == tcell.KeyBackspace || ev.Key() == tcell.KeyBackspace2 {
			v.closeDetail()
			return nil
		}
		return ev
	})
	v.layout = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(v.header, 1, 0, false).
		AddItem(v.table.View, 0, 1, true)
	v.table.View.SetSelectedFunc(func(row, _ int) { v.openDetail() })
	v.table.View.SetDoneFunc(func(key tcell.Key) {
		if key == tcell.KeyEscape && v.filter.GetText() != "" { // Esc clears the filter
			v.filter.SetText("")
			v.closeFilter()
		}
	})
	v.table.View.SetInputCapture(chainCapture(v.table.View.GetInputCapture(), func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() == tcell.KeyRune && ev.Rune() == '/' {
			v.openFilter()
			return nil
		}
		return ev
	}))
	v.pages = newSwitcher(v.layout)
	return v
}

// chainCapture runs first, then second on what first lets through.
func chainCapture(first, second func(*tcell.EventKey) *tcell.EventKey) func(*tcell.EventKey) *tcell.EventKey {
	return func(ev *tcell.EventKey) *tcell.EventKey {
		if first != nil {
			if ev = first(ev); ev == nil {
				return nil
			}
		}
		return second(ev)
	}
}

func (v *goroutinesView) primitive() tview.Primitive { return v.pages }

// focusTarget is what gets focus when the view is selected.
func (v *goroutinesView) focusTarget() tview.Primitive {
	if v.showing != "" {
		return v.detail
	}
	return v.table.View
}

func (v *goroutinesView) openFilter() {
	if v.layout.GetItemCount() == 2 {
		v.layout.AddItem(v.filter, 1, 0, false)
	}
	v.focus(v.filter)
}

func (v *goroutinesView) closeFilter() {
	if v.filter.GetText() == "" && v.layout.GetItemCount() == 3 {
		v.layout.RemoveItem(v.filter)
	}
	v.focus(v.table.View)
}

func (v *goroutinesView) openDetail() {
	g, ok := v.table.Selected()
	if !ok {
		return
	}
	v.showing = g.Key
	v.renderDetail(g, false)
	v.detail.ScrollToBeginning()
	v.pages.show(v.detail)
	v.focus(v.detail)
}

func (v *goroutinesView) closeDetail() {
	v.showing = ""
	v.pages.show(v.layout)
	v.focus(v.table.View)
}

func (v *goroutinesView) render(f frame) {
	v.f = f
	last := f.latest()
	var groups []*model.GoroutineGroup
	if last != nil {
		groups = make([]*model.GoroutineGroup, len(last.Groups))
		for i := range last.Groups {
			groups[i] = &last.Groups[i]
		}
	}
	v.hay = nil // a new sample: new group values
	v.table.SetRows(groups)
	v.updateHeader()
	if v.showing != "" {
		for _, g := range groups {
			if g.Key == v.showing {
				v.renderDetail(g, false)
				return
			}
		}
		v.renderDetail(v.shown, true)
	}
}

func (v *goroutinesView) updateHeader() {
	last := v.f.latest()
	if why, ok := v.f.status.Unavailable[ViewGoroutines]; ok {
		v.header.SetText("[yellow]" + tview.Escape(why) + "[-]")
		return
	}
	if last == nil {
		v.header.SetText("[gray]waiting for the first snapshot…[-]")
		return
	}
	if len(last.Groups) == 0 && last.GroupsTime.IsZero() {
		v.header.SetText("[yellow]no goroutine groups yet: the target's goroutine collector has not sampled[-]")
		return
	}
	goroutines := 0
	for _, g := range last.Groups {
		goroutines += g.Count
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[::b]%d groups[::-], %d goroutines", len(last.Groups), goroutines)
	if last.GroupsTruncated {
		fmt.Fprintf(&b, " (top %d of %d groups)", len(last.Groups), last.GroupsTotal)
	}
	if v.table.Filter != "" {
		fmt.Fprintf(&b, "  [yellow]filter %q: %d groups[-]", v.table.Filter, len(v.table.Rows))
	}
	fmt.Fprintf(&b, "  %s", v.table.SortTitle())
	if !last.GroupsTime.IsZero() {
		fmt.Fprintf(&b, "  [gray]sampled %s[-]", last.GroupsTime.Local().Format("15:04:05"))
	}
	b.WriteString("  [gray]/ filter  < > sort  r reverse  Enter open[-]")
	v.header.SetText(b.String())
}

func (v *goroutinesView) renderDetail(g *model.GoroutineGroup, gone bool) {
	v.shown = g
	var b strings.Builder
	if gone {
		b.WriteString("[black:yellow] this group is gone from the latest sample; showing its last state [-:-]\n")
	}
	fmt.Fprintf(&b, "[::b]%d goroutines[::-] %s", g.Count, g.WaitReason)
	if g.Delta != 0 {
		fmt.Fprintf(&b, " (%s since the last sample)", fmtDelta(g.Delta))
	}
	if g.MaxWait > 0 {
		fmt.Fprintf(&b, ", longest wait %s", model.FormatDuration(g.MaxWait))
	}
	b.WriteString("\n\n")
	site := g.Site()
	fmt.Fprintf(&b, "[yellow]parked in [-] %s\n           %s\n", tview.Escape(site.Func), tview.Escape(site.Site()))
	switch {
	case g.CreatedBy.IsZero() && !g.Start.IsZero():
		// Concurrent goroutine profiles have no creation sites; the
		// function the goroutines were started with is the next best.
		fmt.Fprintf(&b, "[yellow]started in[-] %s\n           %s (creation site not in this sample)\n", tview.Escape(g.Start.Func), tview.Escape(g.Start.Site()))
	case g.CreatedBy.IsZero():
		b.WriteString("[yellow]created by[-] (not recorded: main, a runtime goroutine, or a sample without creation sites)\n")
	default:
		fmt.Fprintf(&b, "[yellow]created by[-] %s\n           %s\n", tview.Escape(g.CreatedBy.Func), tview.Escape(g.CreatedBy.Site()))
	}
	if len(g.SampleIDs) > 0 {
		ids := make([]string, len(g.SampleIDs))
		for i, id := range g.SampleIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		fmt.Fprintf(&b, "[yellow]samples   [-] goroutine %s\n", strings.Join(ids, ", "))
	}
	if g.MaxWait > 0 {
		fmt.Fprintf(&b, "[yellow]wait      [-] up to %s (dumps count whole minutes)\n", model.FormatDuration(g.MaxWait))
	}
	if g.Leaked > 0 {
		fmt.Fprintf(&b, "[red]leaked    [-] %d members are blocked on unreachable primitives (goroutineleak profile)\n", g.Leaked)
	}
	if len(g.Labels) > 0 {
		keys := make([]string, 0, len(g.Labels))
		for k := range g.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			keys[i] = k + "=" + g.Labels[k]
		}
		fmt.Fprintf(&b, "[yellow]labels    [-] %s\n", tview.Escape(strings.Join(keys, " ")))
	}
	fmt.Fprintf(&b, "[yellow]key       [-] %s\n\n[::b]stack[::-] (innermost first)\n", tview.Escape(g.Key))
	stack := g.Stack
	if len(stack) == 0 {
		stack = g.TopFrames
	}
	for _, fr := range stack {
		fmt.Fprintf(&b, "  %s\n      [gray]%s[-]\n", tview.Escape(fr.Func), tview.Escape(fr.Site()))
	}
	v.detail.SetText(b.String())
}
