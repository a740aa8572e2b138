package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/asyncmon/asyncmon/model"
)

// printConnections writes the tracked connections of a snapshot as a
// table of its own: open and leaked counts by kind, then one row per pool.
// It writes nothing when no connection or pool is tracked.
func printConnections(w io.Writer, cs model.Connections) error {
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
