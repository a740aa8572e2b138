package tui

import (
	"cmp"
	"slices"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// column describes one column of a sortTable.
type column[T any] struct {
	title string
	// right aligns numbers.
	right bool
	// expand makes the column flexible: flexible columns share the
	// width the fixed ones leave, in proportion to expand, so a table
	// fits an 80-column terminal and uses a wide one.
	expand int
	// width is a fixed column's usual width, used to share the rest.
	width int
	// maxWidth caps the column, 0 for no cap.
	maxWidth int
	// trimLeft cuts overlong text at the start ("…/file.go:42") rather
	// than at the end, for text whose end matters most.
	trimLeft bool
	text     func(T) string
	// num gives a numeric column's sort value; sorting by it reads each
	// row once, which matters at 10,000 rows scattered in memory.
	num func(T) float64
	// cmp orders rows ascending by a non-numeric column.
	cmp func(a, b T) int
	// color optionally colors the cell.
	color func(T) tcell.Color
}

// sortTable is a virtual tview table over a slice of rows: it stores no
// cells, so a table of 10,000 rows costs only the visible cells per frame.
// Rows sort by any column (< and > move the sort column, r reverses) and
// filter by a predicate. The selection follows its row across updates.
type sortTable[T any] struct {
	tview.TableContentReadOnly
	table   *tview.Table
	cols    []column[T]
	all     []T
	sorted  []T // all, sorted; nil when it must be sorted again
	rows    []T // sorted, filtered
	sortCol int
	desc    bool
	filter  string
	match   func(T, string) bool
	key     func(T) string
	// onSort is called after the sort order changed, to let the owner
	// refresh its header.
	onSort func()
	// flexW are the widths of the flexible columns for the current
	// draw, by column index; computed before each draw.
	flexW []int
}

func newSortTable[T any](cols []column[T], sortCol int, desc bool, key func(T) string) *sortTable[T] {
	t := &sortTable[T]{cols: cols, sortCol: sortCol, desc: desc, key: key}
	t.table = tview.NewTable().SetContent(t).SetFixed(1, 0).SetSelectable(true, false)
	t.table.SetSelectedStyle(tcell.StyleDefault.Reverse(true))
	t.table.SetDrawFunc(func(_ tcell.Screen, x, y, w, h int) (int, int, int, int) {
		t.layout(w, h) // before the table lays out its cells
		return x, y, w, h
	})
	t.table.Select(1, 0)
	t.table.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() != tcell.KeyRune {
			return ev
		}
		switch ev.Rune() {
		case '<':
			t.sortBy((t.sortCol+len(t.cols)-1)%len(t.cols), t.desc)
		case '>':
			t.sortBy((t.sortCol+1)%len(t.cols), t.desc)
		case 'r':
			t.sortBy(t.sortCol, !t.desc)
		default:
			return ev
		}
		return nil
	})
	return t
}

// setRows replaces the data, keeping the selected row selected.
func (t *sortTable[T]) setRows(rows []T) {
	t.all, t.sorted = rows, nil
	t.refresh()
}

// setFilter sets the filter text; match decides which rows pass.
func (t *sortTable[T]) setFilter(text string) {
	t.filter = text
	t.refresh()
}

// sortBy changes the order, keeping the selected row selected.
func (t *sortTable[T]) sortBy(col int, desc bool) {
	t.sortCol, t.desc = col, desc
	t.sorted = nil
	t.refresh()
	if t.onSort != nil {
		t.onSort()
	}
}

// sortTitle says what the table is sorted by, for a header line.
func (t *sortTable[T]) sortTitle() string {
	arrow := "↑"
	if t.desc {
		arrow = "↓"
	}
	return "sorted by " + t.cols[t.sortCol].title + " " + arrow
}

func (t *sortTable[T]) refresh() {
	var selKey string
	hadSel := false
	if sel, ok := t.selected(); ok && t.key != nil {
		selKey, hadSel = t.key(sel), true
	}
	if t.sorted == nil {
		// Sort once per data or order change; a keystroke in the filter
		// only filters the sorted rows, which keeps their order.
		t.sorted = t.sortRows()
	}
	rows := t.sorted
	if t.filter != "" && t.match != nil {
		needle := strings.ToLower(t.filter)
		rows = make([]T, 0, len(t.sorted))
		for _, r := range t.sorted {
			if t.match(r, needle) {
				rows = append(rows, r)
			}
		}
	}
	t.rows = rows
	row := 1
	if hadSel {
		for i, r := range rows {
			if t.key(r) == selKey {
				row = i + 1
				break
			}
		}
	}
	_, col := t.table.GetSelection()
	t.table.Select(min(row, max(len(rows), 1)), col)
}

// sortRows returns the rows in the current order. Equal rows keep their
// input order (the source's), so the table is steady across samples.
func (t *sortTable[T]) sortRows() []T {
	c := t.cols[t.sortCol]
	type kv struct {
		v float64
		i int
	}
	kvs := make([]kv, len(t.all))
	for i, r := range t.all {
		kvs[i].i = i
		if c.num != nil {
			kvs[i].v = c.num(r)
		}
	}
	if c.num != nil || c.cmp != nil {
		slices.SortFunc(kvs, func(a, b kv) int {
			r := 0
			switch {
			case c.num != nil:
				r = cmp.Compare(a.v, b.v)
			default:
				r = c.cmp(t.all[a.i], t.all[b.i])
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
		out[j] = t.all[x.i]
	}
	return out
}

// selected returns the selected row, if any.
func (t *sortTable[T]) selected() (T, bool) {
	row, _ := t.table.GetSelection()
	if row < 1 || row > len(t.rows) {
		var zero T
		return zero, false
	}
	return t.rows[row-1], true
}

// GetCell implements tview.TableContent.
func (t *sortTable[T]) GetCell(row, col int) *tview.TableCell {
	if col < 0 || col >= len(t.cols) {
		return nil
	}
	c := t.cols[col]
	if row == 0 {
		title := c.title
		if col == t.sortCol {
			if t.desc {
				title += "↓"
			} else {
				title += "↑"
			}
		}
		cell := tview.NewTableCell(title).SetSelectable(false).
			SetAttributes(tcell.AttrBold).SetTextColor(tcell.ColorYellow).SetExpansion(c.expand)
		if c.right {
			cell.SetAlign(tview.AlignRight)
		}
		return cell
	}
	if row-1 >= len(t.rows) {
		return nil
	}
	r := t.rows[row-1]
	lim := t.limit(col)
	cell := tview.NewTableCell(tview.Escape(clip(c.text(r), lim, c.trimLeft))).SetExpansion(c.expand).SetMaxWidth(lim)
	if c.right {
		cell.SetAlign(tview.AlignRight)
	}
	if c.color != nil {
		cell.SetTextColor(c.color(r))
	}
	return cell
}

// minFlexWidth is the narrowest a flexible column gets.
const minFlexWidth = 8

// limit is the width column col may use: its cap, or for a flexible
// column its share computed by layout.
func (t *sortTable[T]) limit(col int) int {
	if t.cols[col].expand == 0 || t.flexW == nil {
		return t.cols[col].maxWidth
	}
	return t.flexW[col]
}

// layout shares the width the fixed columns leave among the flexible ones:
// each gets what its visible rows need if that fits, and otherwise the
// columns that need more split the rest in proportion to expand.
func (t *sortTable[T]) layout(width, height int) {
	n := len(t.cols)
	if cap(t.flexW) < n {
		t.flexW = make([]int, n)
	}
	t.flexW = t.flexW[:n]
	need := make([]int, n)
	avail := width - (n - 1) // one separator between columns
	off, _ := t.table.GetOffset()
	first, last := min(off, len(t.rows)), min(off+height, len(t.rows))
	for i, c := range t.cols {
		if c.expand == 0 {
			avail -= max(c.width, len([]rune(c.title))+1)
			continue
		}
		need[i] = len([]rune(c.title)) + 1
		for _, r := range t.rows[first:last] {
			need[i] = max(need[i], len([]rune(c.text(r))))
		}
		if c.maxWidth > 0 {
			need[i] = min(need[i], c.maxWidth)
		}
	}
	open := map[int]bool{}
	for i, c := range t.cols {
		if c.expand > 0 {
			open[i] = true
		}
	}
	for len(open) > 0 {
		weights := 0
		for i := range open {
			weights += t.cols[i].expand
		}
		settled := false
		for i := range open {
			if share := avail * t.cols[i].expand / weights; need[i] <= share {
				t.flexW[i] = need[i]
				avail -= need[i]
				delete(open, i)
				settled = true
			}
		}
		if !settled {
			for i := range open {
				t.flexW[i] = max(avail*t.cols[i].expand/weights, minFlexWidth)
			}
			break
		}
	}
}

// clip shortens s to width runes with an ellipsis at the end, or at the
// start when left is true.
func clip(s string, width int, left bool) string {
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
func (t *sortTable[T]) GetRowCount() int { return len(t.rows) + 1 }

// GetColumnCount implements tview.TableContent.
func (t *sortTable[T]) GetColumnCount() int { return len(t.cols) }

// numOf builds a numeric column's sort value; cmpStr a string column's
// comparator.
func numOf[T any, N ~int | ~int64 | ~float64](get func(T) N) func(T) float64 {
	return func(r T) float64 { return float64(get(r)) }
}

func cmpStr[T any](get func(T) string) func(a, b T) int {
	return func(a, b T) int { return strings.Compare(get(a), get(b)) }
}
