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
)

// connectionsView shows open connections (sortable by age and idle time, or
// any other column) and connection pools.
type connectionsView struct {
	layout *tview.Flex
	header *tview.TextView
	conns  *sortTable[model.Conn]
	pools  *sortTable[model.Pool]
	leaks  *sortTable[model.Conn]
	title  *tview.TextView
	leaksT *tview.TextView
}

// leakColumns describe definite leaks: connections and bodies whose
// wrapper became unreachable while still open.
func leakColumns() []column[model.Conn] {
	type C = model.Conn
	return []column[model.Conn]{
		{title: "KIND", width: 9, text: func(c C) string { return c.Kind }, cmp: cmpStr(func(c C) string { return c.Kind })},
		{title: "AT SITE", right: true, width: 7, text: func(c C) string { return strconv.FormatInt(max(c.SiteLeaksTotal, 1), 10) },
			num: numOf(func(c C) int64 { return c.SiteLeaksTotal })},
		{title: "OPEN FOR", right: true, width: 9, text: func(c C) string { return model.FormatSeconds(c.AgeSeconds) },
			num: numOf(func(c C) float64 { return c.AgeSeconds })},
		{title: "REMOTE", width: 21, maxWidth: 40, trimLeft: true, text: remoteOrPool, cmp: cmpStr(remoteOrPool)},
		{title: "OPENED AT", expand: 2, maxWidth: 60, trimLeft: true, text: func(c C) string { return c.OpenSite.ShortFunc() + " " + c.OpenSite.ShortSite() },
			cmp:   cmpStr(func(c C) string { return c.OpenSite.Site() }),
			color: func(C) tcell.Color { return tcell.ColorRed }},
	}
}

func connColumns() []column[model.Conn] {
	type C = model.Conn
	return []column[model.Conn]{
		{title: "KIND", width: 9, text: func(c C) string { return c.Kind }, cmp: cmpStr(func(c C) string { return c.Kind })},
		{title: "AGE", right: true, width: 7, text: func(c C) string { return model.FormatSeconds(c.AgeSeconds) },
			num: numOf(func(c C) float64 { return c.AgeSeconds })},
		{title: "IDLE", right: true, width: 7, text: func(c C) string { return model.FormatSeconds(c.IdleSeconds) },
			num: numOf(func(c C) float64 { return c.IdleSeconds })},
		{title: "IN", right: true, width: 9, text: func(c C) string { return fmtBytes(float64(c.BytesIn)) },
			num: numOf(func(c C) int64 { return c.BytesIn })},
		{title: "OUT", right: true, width: 9, text: func(c C) string { return fmtBytes(float64(c.BytesOut)) },
			num: numOf(func(c C) int64 { return c.BytesOut })},
		{title: "REMOTE", width: 21, maxWidth: 40, trimLeft: true, text: remoteOrPool, cmp: cmpStr(remoteOrPool)},
		{title: "OPENED AT", expand: 2, maxWidth: 60, trimLeft: true, text: func(c C) string { return c.OpenSite.ShortFunc() + " " + c.OpenSite.ShortSite() },
			cmp: cmpStr(func(c C) string { return c.OpenSite.Site() }),
			color: func(c C) tcell.Color {
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

func poolColumns() []column[model.Pool] {
	type P = model.Pool
	num := func(get func(P) int) func(P) string { return func(p P) string { return strconv.Itoa(get(p)) } }
	return []column[model.Pool]{
		{title: "POOL", expand: 1, text: func(p P) string { return p.Name }, cmp: cmpStr(func(p P) string { return p.Name })},
		{title: "KIND", text: func(p P) string { return p.Kind }, cmp: cmpStr(func(p P) string { return p.Kind })},
		{title: "OPEN", right: true, text: num(func(p P) int { return p.Open }), num: numOf(func(p P) int { return p.Open })},
		{title: "IN USE", right: true, text: num(func(p P) int { return p.InUse }), num: numOf(func(p P) int { return p.InUse })},
		{title: "IDLE", right: true, text: num(func(p P) int { return p.Idle }), num: numOf(func(p P) int { return p.Idle })},
		{title: "MAX", right: true, text: func(p P) string {
			if p.MaxOpen == 0 {
				return "∞"
			}
			return strconv.Itoa(p.MaxOpen)
		}, num: numOf(func(p P) int { return p.MaxOpen })},
		{title: "WAITS", right: true, text: func(p P) string { return strconv.FormatInt(p.WaitCountTotal, 10) },
			num: numOf(func(p P) int64 { return p.WaitCountTotal })},
		{title: "WAITED", right: true, text: func(p P) string { return model.FormatSeconds(p.WaitSecondsTotal) },
			num: numOf(func(p P) float64 { return p.WaitSecondsTotal })},
	}
}

func newConnectionsView() *connectionsView {
	v := &connectionsView{
		header: tview.NewTextView().SetDynamicColors(true).SetWrap(false),
		title:  tview.NewTextView().SetDynamicColors(true).SetWrap(false).SetText("[::b]pools[::-]"),
		conns:  newSortTable(connColumns(), 1, true, func(c model.Conn) string { return strconv.FormatUint(c.ID, 10) }),
		pools:  newSortTable(poolColumns(), 0, false, func(p model.Pool) string { return p.Name }),
		leaks:  newSortTable(leakColumns(), 1, true, func(c model.Conn) string { return strconv.FormatUint(c.ID, 10) }),
		leaksT: tview.NewTextView().SetDynamicColors(true).SetWrap(false),
	}
	v.layout = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(v.header, 1, 0, false).
		AddItem(v.conns.table, 0, 3, true).
		AddItem(v.title, 1, 0, false).
		AddItem(v.pools.table, 0, 1, false).
		AddItem(v.leaksT, 1, 0, false).
		AddItem(v.leaks.table, 0, 1, false)
	return v
}

func (v *connectionsView) primitive() tview.Primitive { return v.layout }

func (v *connectionsView) focusTarget() tview.Primitive { return v.conns.table }

func (v *connectionsView) tables() []tview.Primitive {
	return []tview.Primitive{v.conns.table, v.pools.table, v.leaks.table}
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
	v.conns.setRows(cs.Open)
	v.pools.setRows(cs.Pools)
	v.leaks.setRows(cs.Leaks)
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
