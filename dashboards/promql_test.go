package dashboards

import (
	"fmt"
	"strings"
	"testing"
)

// selector is one vector or range selector found in a PromQL expression:
// a metric name and its label matchers as written (without braces).
type selector struct {
	Name     string
	Matchers string
}

// String returns the selector as PromQL.
func (s selector) String() string {
	if s.Matchers == "" {
		return s.Name
	}
	return s.Name + "{" + s.Matchers + "}"
}

// Words that are never metric names in the expressions we write.
var promqlWords = map[string]bool{
	// aggregation operators, which may be followed by "by (...)" before
	// their parenthesis
	"sum": true, "min": true, "max": true, "avg": true, "group": true,
	"stddev": true, "stdvar": true, "count": true, "count_values": true,
	"bottomk": true, "topk": true, "quantile": true,
	// binary operators and modifiers
	"and": true, "or": true, "unless": true, "atan2": true, "bool": true,
	"offset": true, "on": true, "ignoring": true, "group_left": true,
	"group_right": true, "by": true, "without": true,
	"inf": true, "nan": true,
}

// labelListWords are followed by a parenthesised list of label names.
var labelListWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true,
}

// selectors returns the selectors of a PromQL expression. It is a small
// lexer, not a parser: enough to find every metric a query reads so the
// tests can check their scoping and that each one has data. It fails on
// unbalanced brackets and unterminated strings.
func selectors(expr string) ([]selector, error) {
	var out []selector
	var depth []byte // open brackets
	i := 0
	skipString := func() error {
		q := expr[i]
		for j := i + 1; j < len(expr); j++ {
			if expr[j] == '\\' && q != '`' {
				j++
				continue
			}
			if expr[j] == q {
				i = j + 1
				return nil
			}
		}
		return fmt.Errorf("unterminated string at %d in %q", i, expr)
	}
	// braces reads {matchers} starting at expr[i] == '{'.
	braces := func() (string, error) {
		start := i + 1
		i++
		for i < len(expr) {
			switch expr[i] {
			case '"', '\'', '`':
				if err := skipString(); err != nil {
					return "", err
				}
				continue
			case '}':
				m := strings.TrimSpace(expr[start:i])
				i++
				return m, nil
			}
			i++
		}
		return "", fmt.Errorf("unterminated { in %q", expr)
	}
	skipSpace := func() {
		for i < len(expr) && strings.ContainsRune(" \t\r\n", rune(expr[i])) {
			i++
		}
	}
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
	for i < len(expr) {
		c := expr[i]
		switch {
		case strings.ContainsRune(" \t\r\n", rune(c)):
			i++
		case c == '"' || c == '\'' || c == '`':
			if err := skipString(); err != nil {
				return nil, err
			}
		case c == '(':
			depth = append(depth, ')')
			i++
		case c == ')' || c == ']':
			if len(depth) == 0 || depth[len(depth)-1] != c {
				return nil, fmt.Errorf("unbalanced %q at %d in %q", c, i, expr)
			}
			depth = depth[:len(depth)-1]
			i++
		case c == '[':
			// A range or subquery: durations and steps, no selectors.
			depth = append(depth, ']')
			i++
			for i < len(expr) && expr[i] != ']' {
				i++
			}
		case c == '{':
			m, err := braces()
			if err != nil {
				return nil, err
			}
			out = append(out, selector{Matchers: m})
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < len(expr) && isIdent(expr[i]) {
				i++
			}
			word := expr[start:i]
			skipSpace()
			next := byte(0)
			if i < len(expr) {
				next = expr[i]
			}
			switch {
			case labelListWords[word] && next == '(':
				for i < len(expr) && expr[i] != ')' {
					i++
				}
				i++
			case promqlWords[word]:
			case next == '(':
				// a function call
			case next == '{':
				m, err := braces()
				if err != nil {
					return nil, err
				}
				out = append(out, selector{Name: word, Matchers: m})
			default:
				out = append(out, selector{Name: word})
			}
		default:
			i++ // operators, commas, @
		}
	}
	if len(depth) > 0 {
		return nil, fmt.Errorf("unclosed brackets in %q", expr)
	}
	return out, nil
}

// orOperands splits expr at its top-level "or" operators (with their
// optional on()/ignoring() clause), so each alternative of a fallback can
// be checked on its own.
func orOperands(expr string) []string {
	var parts []string
	depth, last := 0, 0
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
		case '"':
			for i++; i < len(expr) && expr[i] != '"'; i++ {
				if expr[i] == '\\' {
					i++
				}
			}
		case ' ':
			if depth != 0 || !strings.HasPrefix(expr[i:], " or ") {
				continue
			}
			parts = append(parts, strings.TrimSpace(expr[last:i]))
			i += len(" or ")
			rest := strings.TrimLeft(expr[i:], " ")
			for _, mod := range []string{"on", "ignoring"} {
				if strings.HasPrefix(rest, mod+"(") || strings.HasPrefix(rest, mod+" (") {
					i = len(expr) - len(rest) + strings.IndexByte(rest, ')') + 1
				}
			}
			last = i
		}
	}
	return append(parts, strings.TrimSpace(expr[last:]))
}

func TestSelectors(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		want       []string
	}{
		{"bare", "up", []string{"up"}},
		{"matchers", `up{job="a", x=~"b}"}`, []string{`up{job="a", x=~"b}"}`}},
		{"aggregation by", `sum by (job, le) (rate(x_bucket{a="1"}[5m]))`, []string{`x_bucket{a="1"}`}},
		{"aggregation by after", `max(y) by (job)`, []string{"y"}},
		{"binary on group_left", `a / on (job) group_left (x) b`, []string{"a", "b"}},
		{"numbers and offset", `a offset 5m > 0.99 * 1e3`, []string{"a"}},
		{"strings are not metrics", `label_replace(a, "state", "all", "", "")`, []string{"a"}},
		{"or on", `a or on() vector(0)`, []string{"a"}},
		{"name matcher", `{__name__="a"}`, []string{`{__name__="a"}`}},
		{"subquery", `max_over_time(a[5m:1m])`, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selectors(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			var gs []string
			for _, s := range got {
				gs = append(gs, s.String())
			}
			if strings.Join(gs, " ") != strings.Join(tc.want, " ") {
				t.Errorf("selectors(%q) = %q, want %q", tc.expr, gs, tc.want)
			}
		})
	}
	for _, bad := range []string{`sum(a`, `a{job="x}`, `rate(a[5m)`, `a)`} {
		if _, err := selectors(bad); err == nil {
			t.Errorf("selectors(%q): no error", bad)
		}
	}
}

func TestOrOperands(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{"a", []string{"a"}},
		{"a or b", []string{"a", "b"}},
		{"a or on() b", []string{"a", "b"}},
		{"a or on (job) b or c", []string{"a", "b", "c"}},
		{"sum(a or b)", []string{"sum(a or b)"}},
		{`a{x="p or q"} or b`, []string{`a{x="p or q"}`, "b"}},
	} {
		if got := orOperands(tc.expr); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("orOperands(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
