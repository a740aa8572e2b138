package tui

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/asyncmon/asyncmon/model"
	"github.com/asyncmon/asyncmon/tui/widget"
)

// connectionsView shows open connections (sortable by age and idle time, or
// any other column) and connection pools.
type connectionsView struct {
	layout *tview.Flex
	header *tview.TextView
	conns  *widget.Table[model.Conn]
	pools  *widget.Table[model.Pool]
	leaks  *widget.Table[model.Conn]
	title  *tview.TextView
	leaksT *tview.TextView
}

// leakColumns describe definite leaks: connections and bodies whose
// wrapper became unreachable while still open.
func leakColumns() []widget.Column[model.Conn] {
	type C = model.Conn
	return []widget.Column[model.Conn]{
		{Title: "KIND", Width: 9, Text: func(c C) string { return c.Kind }, Cmp: widget.CmpStr(func(c C) string { return c.Kind })},
		{Title: "AT SITE", Right: true, Width: 7, Text: func(c C) string { return strconv.FormatInt(max(c.SiteLeaksTotal, 1), 10) },
			Num: widget.NumOf(func(c C) int64 { return c.SiteLeaksTotal })},
		{Title: "OPEN FOR", Right: true, Width: 9, Text: func(c C) string { return model.FormatSeconds(c.AgeSeconds) },
			Num: widget.NumOf(func(c C) float64 { return c.AgeSeconds })},
		{Title: "REMOTE", Width: 21, MaxWidth: 40, TrimLeft: true, Text: remoteOrPool, Cmp: widget.CmpStr(remoteOrPool)},
		{Title: "OPENED AT", Expand: 2, MaxWidth: 60, TrimLeft: true, Text: func(c C) string { return c.OpenSite.ShortFunc() + " " + c.OpenSite.ShortSite() },
			Cmp:   widget.CmpStr(func(c C) string { return c.OpenSite.Site() }),
			Color: func(C) tcell.Color { return tcell.ColorRed }},
	}
}

func connColumns() []widget.Column[model.Conn] {
	type C = model.Conn
	return []widget.Column[model.Conn]{
		{Title: "KIND", Width: 9, Text: func(c C) string { return c.Kind }, Cmp: widget.CmpStr(func(c C) string { return c.Kind })},
		{Title: "AGE", Right: true, Width: 7, Text: func(c C) string { return model.FormatSeconds(c.AgeSeconds) },
			Num: widget.NumOf(func(c C) float64 { return c.AgeSeconds })},
		{Title: "IDLE", Right: true, Width: 7, Text: func(c C) string { return model.FormatSeconds(c.IdleSeconds) },
			Num: widget.NumOf(func(c C) float64 { return c.IdleSeconds })},
		{Title: "IN", Right: true, Width: 9, Text: func(c C) string { return model.FormatBytes(float64(c.BytesIn)) },
			Num: widget.NumOf(func(c C) int64 { return c.BytesIn })},
		{Title: "OUT", Right: true, Width: 9, Text: func(c C) string { return model.FormatBytes(float64(c.BytesOut)) },
			Num: widget.NumOf(func(c C) int64 { return c.BytesOut })},
		{Title: "REMOTE", Width: 21, MaxWidth: 40, TrimLeft: true, Text: remoteOrPool, Cmp: widget.CmpStr(remoteOrPool)},
		{Title: "OPENED AT", Expand: 2, MaxWidth: 60, TrimLeft: true, Text: func(c C) string { return c.OpenSite.ShortFunc() + " " + c.OpenSite.ShortSite() },
			Cmp: widget.CmpStr(func(c C) string { return c.OpenSite.Site() }),
			Color: func(c C) tcell.Color {
				if c.Leaked {
					return tcell.ColorRed
				}
				return tcell.ColorDefault
			}},
	}
}

// remoteOrPool is a connection's peer, or for the database/sql kinds,
// which have none of their own, the pool they belong to.
func remoteOrPool(c model.Conn) string {
	if c.Remote == "" {
		return c.Pool
	}
	return c.Remote
}

func poolColumns() []widget.Column[model.Pool] {
	type P = model.Pool
	num := func(get func(P) int) func(P) string { return func(p P) string { return strconv.Itoa(get(p)) } }
	return []widget.Column[model.Pool]{
		{Title: "POOL", Expand: 1, Text: func(p P) string { return p.Name }, Cmp: widget.CmpStr(func(p P) string { return p.Name })},
		{Title: "KIND", Text: func(p P) string { return p.Kind }, Cmp: widget.CmpStr(func(p P) string { return p.Kind })},
		{Title: "OPEN", Right: true, Text: num(func(p P) int { return p.Open }), Num: widget.NumOf(func(p P) int { return p.Open })},
		{Title: "IN USE", Right: true, Text: num(func(p P) int { return p.InUse }), Num: widget.NumOf(func(p P) int { return p.InUse })},
		{Title: "IDLE", Right: true, Text: num(func(p P) int { return p.Idle }), Num: widget.NumOf(func(p P) int { return p.Idle })},
		{Title: "MAX", Right: true, Text: func(p P) string {
			if p.MaxOpen == 0 {
				return "∞"
			}
			return strconv.Itoa(p.MaxOpen)
		}, Num: widget.NumOf(func(p P) int { return p.MaxOpen })},
		{Title: "WAITS", Right: true, Text: func(p P) string { return strconv.FormatInt(p.WaitCountTotal, 10) },
			Num: widget.NumOf(func(p P) int64 { return p.WaitCountTotal })},
		{Title: "WAITED", Right: true, Text: func(p P) string { return model.FormatSeconds(p.WaitSecondsTotal) },
			Num: widget.NumOf(func(p P) float64 { return p.WaitSecondsTotal })},
	}
}

func newConnectionsView() *connectionsView {
	v := &connectionsView{
		header: tview.NewTextView().SetDynamicColors(true).SetWrap(false),
		title:  tview.NewTextView().SetDynamicColors(true).SetWrap(false).SetText("[::b]pools[::-]"),
		conns:  widget.NewTable(connColumns(), 1, true, func(c model.Conn) string { return strconv.FormatUint(c.ID, 10) }),
		pools:  widget.NewTable(poolColumns(), 0, false, func(p model.Pool) string { return p.Name }),
		leaks:  widget.NewTable(leakColumns(), 1, true, func(c model.Conn) string { return strconv.FormatUint(c.ID, 10) }),
		leaksT: tview.NewTextView().SetDynamicColors(true).SetWrap(false),
	}
	v.layout = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(v.header, 1, 0, false).
		AddItem(v.conns.View, 0, 3, true).
		AddItem(v.title, 1, 0, false).
		AddItem(v.pools.View, 0, 1, false).
		AddItem(v.leaksT, 1, 0, false).
		AddItem(v.leaks.View, 0, 1, false)
	return v
}

func (v *connectionsView) primitive() tview.Primitive { return v.layout }

func (v *connectionsView) focusTarget() tview.Primitive { return v.conns.View }

func (v *connectionsView) tables() []tview.Primitive {
	return []tview.Primitive{v.conns.View, v.pools.View, v.leaks.View}
}

func (v *connectionsView) render(f frame) {
	last := f.latest()
	var cs model.Connections
	if last != nil {
		cs = last.Connections
	}
	switch why, ok := f.status.Unavailable[ViewConnections]; {
	case ok:
		v.header.SetText("[yellow]" + tview.Escape(why) + "[-]")
	case last == nil:
		v.header.SetText("[gray]waiting for the first snapshot…[-]")
	default:
		v.header.SetText(connSummary(cs))
	}
	v.conns.SetRows(cs.Open)
	v.pools.SetRows(cs.Pools)
	v.leaks.SetRows(cs.Leaks)
	if len(cs.Leaks) == 0 {
		v.leaksT.SetText("[::b]recent definite leaks[::-]  [green]none[-]")
	} else {
		v.leaksT.SetText(fmt.Sprintf("[::b]recent definite leaks[::-]  [red]%d: closed by nobody, found by the garbage collector[-]", len(cs.Leaks)))
	}
}

// connSummary counts open connections by kind and definite leaks.
func connSummary(cs model.Connections) string {
	var b strings.Builder
	total := 0
	for _, n := range cs.OpenByKind {
		total += n
	}
	fmt.Fprintf(&b, "[::b]%d open[::-]", total)
	for _, k := range slices.Sorted(maps.Keys(cs.OpenByKind)) {
		fmt.Fprintf(&b, "  %s %d", k, cs.OpenByKind[k])
	}
	leaked := int64(0)
	for _, n := range cs.LeakedTotal {
		leaked += n
	}
	if leaked > 0 {
		fmt.Fprintf(&b, "  [red]%d leaked since start[-]", leaked)
	}
	if cs.Truncated || len(cs.Open) < total {
		fmt.Fprintf(&b, "  [gray](%d listed: the oldest of each kind)[-]", len(cs.Open))
	}
	b.WriteString("  [gray]< > sort  r reverse  Tab next table[-]")
	return b.String()
}
