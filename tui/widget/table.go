// Package widget holds the tview primitives the terminal UI's views are
// built from: a virtual sortable table, sparklines, and the ASCII
// fallbacks for terminals without block characters.
package widget

import (
	"cmp"
	"slices"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// column describes one column of a sortTable.
// Column is one column of a Table: its title, layout and how to show,
// sort and colour a row's cell.
type Column[T any] struct {
	Title string
	// Right aligns numbers.
	Right bool
	// Expand makes the column flexible: flexible columns share the
	// Width the fixed ones leave, in proportion to expand, so a table
	// fits an 80-column terminal and uses a wide one.
	Expand int
	// Width is a fixed column's usual width, used to share the rest.
	Width int
	// MaxWidth caps the column, 0 for no cap.
	MaxWidth int
	// TrimLeft cuts overlong text at the start ("…/file.go:42") rather
	// than at the end, for text whose end matters most.
	TrimLeft bool
	Text     func(T) string
	// Num gives a numeric column's sort value; sorting by it reads each
	// row once, which matters at 10,000 rows scattered in memory.
	Num func(T) float64
	// Cmp orders rows ascending by a non-numeric column.
	Cmp func(a, b T) int
	// Color optionally colors the cell.
	Color func(T) tcell.Color
}

// Table is a virtual tview table over a slice of rows: it stores no
// cells, so a table of 10,000 rows costs only the visible cells per frame.
// Rows sort by any column (< and > move the sort column, r reverses) and
// filter by a predicate. The selection follows its row across updates.
type Table[T any] struct {
	tview.TableContentReadOnly
	View    *tview.Table
	cols    []Column[T]
	All     []T
	sorted  []T // all, sorted; nil when it must be sorted again
	Rows    []T // sorted, filtered
	sortCol int
	desc    bool
	Filter  string
	Match   func(T, string) bool
	key     func(T) string
	// onSort is called after the sort order changed, to let the owner
	// refresh its header.
	OnSort func()
	// flexW are the widths of the flexible columns for the current
	// draw, by column index; computed before each draw.
	flexW []int
}

// NewTable returns a table over cols, sorted by column sortCol
// (descending when desc); key identifies a row across updates, so the
// selection follows it.
func NewTable[T any](cols []Column[T], sortCol int, desc bool, key func(T) string) *Table[T] {
	t := &Table[T]{cols: cols, sortCol: sortCol, desc: desc, key: key}
	t.View = tview.NewTable().SetContent(t).SetFixed(1, 0).SetSelectable(true, false)
	t.View.SetSelectedStyle(tcell.StyleDefault.Reverse(true))
	t.View.SetDrawFunc(func(_ tcell.Screen, x, y, w, h int) (int, int, int, int) {
		t.layout(w, h) // before the table lays out its cells
		return x, y, w, h
	})
	t.View.Select(1, 0)
	t.View.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() != tcell.KeyRune {
			return ev
		}
		switch ev.Rune() {
		case '<':
			t.SortBy((t.sortCol+len(t.cols)-1)%len(t.cols), t.desc)
		case '>':
			t.SortBy((t.sortCol+1)%len(t.cols), t.desc)
		case 'r':
			t.SortBy(t.sortCol, !t.desc)
		default:
			return ev
		}
		return nil
	})
	return t
}

// setRows replaces the data, keeping the selected row selected.
func (t *Table[T]) SetRows(rows []T) {
	t.All, t.sorted = rows, nil
	t.Refresh()
}

// setFilter sets the filter text; match decides which rows pass.
func (t *Table[T]) SetFilter(text string) {
	t.Filter = text
	t.Refresh()
}

// sortBy changes the order, keeping the selected row selected.
func (t *Table[T]) SortBy(col int, desc bool) {
	t.sortCol, t.desc = col, desc
	t.sorted = nil
	t.Refresh()
	if t.OnSort != nil {
		t.OnSort()
	}
}

// sortTitle says what the table is sorted by, for a header line.
func (t *Table[T]) SortTitle() string {
	arrow := "↑"
	if t.desc {
		arrow = "↓"
	}
	return "sorted by " + t.cols[t.sortCol].Title + " " + arrow
}

func (t *Table[T]) Refresh() {
	var selKey string
	hadSel := false
	if sel, ok := t.Selected(); ok && t.key != nil {
		selKey, hadSel = t.key(sel), true
	}
	if t.sorted == nil {
		// Sort once per data or order change; a keystroke in the filter
		// only filters the sorted rows, which keeps their order.
		t.sorted = t.sortRows()
	}
	rows := t.sorted
	if t.Filter != "" && t.Match != nil {
		needle := strings.ToLower(t.Filter)
		rows = make([]T, 0, len(t.sorted))
		for _, r := range t.sorted {
			if t.Match(r, needle) {
				rows = append(rows, r)
			}
		}
	}
	t.Rows = rows
	row := 1
	if hadSel {
		for i, r := range rows {
			if t.key(r) == selKey {
				row = i + 1
				break
			}
		}
	}
	_, col := t.View.GetSelection()
	t.View.Select(min(row, max(len(rows), 1)), col)
}

// sortRows returns the rows in the current order. Equal rows keep their
// input order (the source's), so the table is steady across samples.
func (t *Table[T]) sortRows() []T {
	c := t.cols[t.sortCol]
	type kv struct {
		v float64
		i int
	}
	kvs := make([]kv, len(t.All))
	for i, r := range t.All {
		kvs[i].i = i
		if c.Num != nil {
			kvs[i].v = c.Num(r)
		}
	}
	if c.Num != nil || c.Cmp != nil {
		slices.SortFunc(kvs, func(a, b kv) int {
			r := 0
			switch {
			case c.Num != nil:
				r = cmp.Compare(a.v, b.v)
			default:
				r = c.Cmp(t.All[a.i], t.All[b.i])
			}
			if t.desc {
				r = -r
			}
			if r == 0 {
				r = a.i - b.i
			}
			return r
		})
	}
	out := make([]T, len(kvs))
	for j, x := range kvs {
		out[j] = t.All[x.i]
	}
	return out
}

// selected returns the selected row, if any.
func (t *Table[T]) Selected() (T, bool) {
	row, _ := t.View.GetSelection()
	if row < 1 || row > len(t.Rows) {
		var zero T
		return zero, false
	}
	return t.Rows[row-1], true
}

// GetCell implements tview.TableContent.
func (t *Table[T]) GetCell(row, col int) *tview.TableCell {
	if col < 0 || col >= len(t.cols) {
		return nil
	}
	c := t.cols[col]
	if row == 0 {
		title := c.Title
		if col == t.sortCol {
			if t.desc {
				title += "↓"
			} else {
				title += "↑"
			}
		}
		cell := tview.NewTableCell(title).SetSelectable(false).
			SetAttributes(tcell.AttrBold).SetTextColor(tcell.ColorYellow).SetExpansion(c.Expand)
		if c.Right {
			cell.SetAlign(tview.AlignRight)
		}
		return cell
	}
	if row-1 >= len(t.Rows) {
		return nil
	}
	r := t.Rows[row-1]
	lim := t.limit(col)
	cell := tview.NewTableCell(tview.Escape(Clip(c.Text(r), lim, c.TrimLeft))).SetExpansion(c.Expand).SetMaxWidth(lim)
	if c.Right {
		cell.SetAlign(tview.AlignRight)
	}
	if c.Color != nil {
		cell.SetTextColor(c.Color(r))
	}
	return cell
}

// minFlexWidth is the narrowest a flexible column gets.
const minFlexWidth = 8

// limit is the width column col may use: its cap, or for a flexible
// column its share computed by layout.
func (t *Table[T]) limit(col int) int {
	if t.cols[col].Expand == 0 || t.flexW == nil {
		return t.cols[col].MaxWidth
	}
	return t.flexW[col]
}

// layout shares the width the fixed columns leave among the flexible ones:
// each gets what its visible rows need if that fits, and otherwise the
// columns that need more split the rest in proportion to expand.
func (t *Table[T]) layout(width, height int) {
	n := len(t.cols)
	if cap(t.flexW) < n {
		t.flexW = make([]int, n)
	}
	t.flexW = t.flexW[:n]
	need := make([]int, n)
	avail := width - (n - 1) // one separator between columns
	off, _ := t.View.GetOffset()
	first, last := min(off, len(t.Rows)), min(off+height, len(t.Rows))
	for i, c := range t.cols {
		if c.Expand == 0 {
			avail -= max(c.Width, len([]rune(c.Title))+1)
			continue
		}
		need[i] = len([]rune(c.Title)) + 1
		for _, r := range t.Rows[first:last] {
			need[i] = max(need[i], len([]rune(c.Text(r))))
		}
		if c.MaxWidth > 0 {
			need[i] = min(need[i], c.MaxWidth)
		}
	}
	open := map[int]bool{}
	for i, c := range t.cols {
		if c.Expand > 0 {
			open[i] = true
		}
	}
	for len(open) > 0 {
		weights := 0
		for i := range open {
			weights += t.cols[i].Expand
		}
		settled := false
		for i := range open {
			if share := avail * t.cols[i].Expand / weights; need[i] <= share {
				t.flexW[i] = need[i]
				avail -= need[i]
				delete(open, i)
				settled = true
			}
		}
		if !settled {
			for i := range open {
				t.flexW[i] = max(avail*t.cols[i].Expand/weights, minFlexWidth)
			}
			break
		}
	}
}

// clip shortens s to width runes with an ellipsis at the end, or at the
// start when left is true.
func Clip(s string, width int, left bool) string {
	if width <= 0 {
		return s
	}
	rs := []rune(s)
	if len(rs) <= width {
		return s
	}
	if left {
		return "…" + string(rs[len(rs)-width+1:])
	}
	return string(rs[:width-1]) + "…"
}

// GetRowCount implements tview.TableContent.
func (t *Table[T]) GetRowCount() int { return len(t.Rows) + 1 }

// GetColumnCount implements tview.TableContent.
func (t *Table[T]) GetColumnCount() int { return len(t.cols) }

// numOf builds a numeric column's sort value; cmpStr a string column's
// comparator.
func NumOf[T any, N ~int | ~int64 | ~float64](get func(T) N) func(T) float64 {
	return func(r T) float64 { return float64(get(r)) }
}

func CmpStr[T any](get func(T) string) func(a, b T) int {
	return func(a, b T) int { return strings.Compare(get(a), get(b)) }
}
