package tui

import (
	"fmt"
	"strconv"

	"github.com/rivo/tview"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui/widget"
)

// blockingView shows the top block and mutex contention sites.
type blockingView struct {
	layout *tview.Flex
	header *tview.TextView
	block  *widget.Table[model.BlockingSite]
	mutex  *widget.Table[model.BlockingSite]
	titles [2]*tview.TextView
}

func blockingColumns() []widget.Column[model.BlockingSite] {
	type S = model.BlockingSite
	return []widget.Column[model.BlockingSite]{
		{Title: "DELAY", Right: true, Width: 7, Text: func(s S) string { return model.FormatSeconds(s.DelaySeconds) },
			Num: widget.NumOf(func(s S) float64 { return s.DelaySeconds })},
		{Title: "EVENTS", Right: true, Width: 7, Text: func(s S) string { return strconv.FormatInt(s.Count, 10) },
			Num: widget.NumOf(func(s S) int64 { return s.Count })},
		{Title: "FUNCTION", Expand: 3, MaxWidth: 60, Text: func(s S) string { return s.Site.ShortFunc() },
			Cmp: widget.CmpStr(func(s S) string { return s.Site.Func })},
		{Title: "AT", Expand: 2, MaxWidth: 40, TrimLeft: true, Text: func(s S) string { return s.Site.ShortSite() },
			Cmp: widget.CmpStr(func(s S) string { return s.Site.Site() })},
	}
}

func newBlockingView() *blockingView {
	key := func(s model.BlockingSite) string { return s.Site.Func + "@" + s.Site.Site() }
	v := &blockingView{
		header: tview.NewTextView().SetDynamicColors(true).SetWrap(false),
		block:  widget.NewTable(blockingColumns(), 0, true, key),
		mutex:  widget.NewTable(blockingColumns(), 0, true, key),
	}
	for i := range v.titles {
		v.titles[i] = tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	}
	v.layout = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(v.header, 1, 0, false).
		AddItem(v.titles[0], 1, 0, false).
		AddItem(v.block.View, 0, 1, true).
		AddItem(v.titles[1], 1, 0, false).
		AddItem(v.mutex.View, 0, 1, false)
	return v
}

func (v *blockingView) primitive() tview.Primitive { return v.layout }

func (v *blockingView) focusTarget() tview.Primitive { return v.block.View }

// tables returns the view's tables for Tab to cycle through.
func (v *blockingView) tables() []tview.Primitive {
	return []tview.Primitive{v.block.View, v.mutex.View}
}

func (v *blockingView) render(f frame) {
	last := f.latest()
	if why, ok := f.status.Unavailable[ViewBlocking]; ok {
		v.header.SetText("[yellow]" + tview.Escape(why) + "[-]")
	} else if last == nil {
		v.header.SetText("[gray]waiting for the first snapshot…[-]")
	} else if last.Blocking.WindowSeconds == 0 && last.Blocking.Block == nil && last.Blocking.Mutex == nil {
		v.header.SetText("[yellow]no contention data yet: the target's block and mutex collector has not sampled[-]")
	} else {
		v.header.SetText(fmt.Sprintf("[::b]contention over the last %s[::-]  [gray]Tab switches tables  < > sort  r reverse[-]",
			model.FormatSeconds(last.Blocking.WindowSeconds)))
	}
	var bl model.Blocking
	if last != nil {
		bl = last.Blocking
	}
	v.titles[0].SetText(profileTitle("block", "runtime.SetBlockProfileRate", bl.BlockProfileRate, bl.BlockDelaySecondsTotal, bl.BlockEventsTotal))
	v.titles[1].SetText(profileTitle("mutex", "runtime.SetMutexProfileFraction", bl.MutexProfileFraction, bl.MutexDelaySecondsTotal, bl.MutexEventsTotal))
	v.block.SetRows(bl.Block)
	v.mutex.SetRows(bl.Mutex)
}

// profileTitle says what a table shows, and plainly when the profile is off.
func profileTitle(kind, setter string, rate int, delay float64, events int64) string {
	switch {
	case rate == 0 && delay == 0 && events == 0:
		return fmt.Sprintf("[::b]%s sites[::-]  [yellow]the %s profile is off (%s); no data[-]", kind, kind, setter)
	case rate == 0: // on, but the target does not report its rate
		return fmt.Sprintf("[::b]%s sites[::-]  [gray]%s over %d events since profiling began[-]", kind, model.FormatSeconds(delay), events)
	}
	return fmt.Sprintf("[::b]%s sites[::-]  [gray]rate %d, %s over %d events since profiling began[-]", kind, rate, model.FormatSeconds(delay), events)
}
