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
	// expand gives the column the spare width (tview expansion).
	expand int
	// maxWidth caps the column, 0 for no cap.
	maxWidth int
	text     func(T) string
	// cmp orders rows ascending by this column.
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
}

func newSortTable[T any](cols []column[T], sortCol int, desc bool, key func(T) string) *sortTable[T] {
	t := &sortTable[T]{cols: cols, sortCol: sortCol, desc: desc, key: key}
	t.table = tview.NewTable().SetContent(t).SetFixed(1, 0).SetSelectable(true, false)
	t.table.SetSelectedStyle(tcell.StyleDefault.Reverse(true))
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
		t.sorted = slices.Clone(t.all)
		if c := t.cols[t.sortCol].cmp; c != nil {
			slices.SortStableFunc(t.sorted, func(a, b T) int {
				if t.desc {
					return c(b, a)
				}
				return c(a, b)
			})
		}
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
	cell := tview.NewTableCell(tview.Escape(c.text(r))).SetExpansion(c.expand).SetMaxWidth(c.maxWidth)
	if c.right {
		cell.SetAlign(tview.AlignRight)
	}
	if c.color != nil {
		cell.SetTextColor(c.color(r))
	}
	return cell
}

// GetRowCount implements tview.TableContent.
func (t *sortTable[T]) GetRowCount() int { return len(t.rows) + 1 }

// GetColumnCount implements tview.TableContent.
func (t *sortTable[T]) GetColumnCount() int { return len(t.cols) }

// cmpNum and cmpStr build column comparators.
func cmpNum[T any, N cmp.Ordered](get func(T) N) func(a, b T) int {
	return func(a, b T) int { return cmp.Compare(get(a), get(b)) }
}

func cmpStr[T any](get func(T) string) func(a, b T) int {
	return func(a, b T) int { return strings.Compare(get(a), get(b)) }
}
