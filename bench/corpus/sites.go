package corpus

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/asyncmon/asyncmon/model"
)

// Marker is the comment that marks an expected site: it ends the line
// where a goroutine blocks for ever (a Lock, a send, a receive, a Wait).
const Marker = "// want"

// Site is where a program's bug blocks: the function as the runtime names
// it and the marked line.
type Site struct {
	// Func is the enclosing function's runtime name, e.g.
	// "github.com/asyncmon/asyncmon/bench/corpus/progs/abba/bank.(*Bank).Transfer".
	Func string `json:"func"`
	// Closure is set when the line is inside a function literal: the
	// runtime names it Func+".func1" (or ".func2", ...), and any of those
	// names matches.
	Closure bool   `json:"closure,omitempty"`
	File    string `json:"file"`
	Line    int    `json:"line"`
}

// Short is the function name without its import path's directories,
// as detectors print it ("bank.(*Bank).Transfer").
func (s Site) Short() string { return s.Func[strings.LastIndexByte(s.Func, '/')+1:] }

// FileLine is "file:line" with the file as a path under the corpus
// ("progs/ab-ba/bank/bank.go:42"), which is how it is matched.
func (s Site) FileLine() string { return s.File + ":" + strconv.Itoa(s.Line) }

func (s Site) String() string { return s.Short() + " (" + s.FileLine() + ")" }

// MatchFrame reports whether a stack frame is at this site: the same
// function (or one of its closures when the line is in one), or the same
// file and line.
func (s Site) MatchFrame(f model.Frame) bool {
	if f.Func == s.Func || (s.Closure && strings.HasPrefix(f.Func, s.Func+".func")) {
		return true
	}
	return f.Line == s.Line && f.File != "" && (f.File == s.File || strings.HasSuffix(f.File, "/"+s.File))
}

// MatchText reports whether a finding's text (title, summary, subject)
// names this site: its function or its file:line.
func (s Site) MatchText(text string) bool {
	return containsWord(text, s.Short()) || containsWord(text, s.FileLine())
}

// containsWord reports whether sub occurs in text not followed by a
// letter, digit or underscore: "f.go:18" is not in "f.go:181", nor
// "pkg.Get" in "pkg.GetAll".
func containsWord(text, sub string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], sub)
		if j < 0 {
			return false
		}
		end := i + j + len(sub)
		if end == len(text) || !isWordByte(text[end]) {
			return true
		}
		i += j + 1
	}
}

func isWordByte(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// Sites returns the marked sites of a program, read from its source
// directory. A buggy program without a marker is an error; a healthy one
// must have none.
func Sites(p Program) ([]Site, error) {
	files, err := filepath.Glob(filepath.Join(p.Dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var sites []Site
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		rel := rootRelative(name)
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if c.Text != Marker && !strings.HasPrefix(c.Text, Marker+" ") && !strings.HasPrefix(c.Text, Marker+":") {
					continue
				}
				pos := fset.Position(c.Pos())
				fn, closure := enclosing(f, c.Pos())
				if fn == "" {
					return nil, fmt.Errorf("%s:%d: %s outside a function", name, pos.Line, Marker)
				}
				sites = append(sites, Site{Func: p.Pkg + "." + fn, Closure: closure, File: rel, Line: pos.Line})
			}
		}
	}
	switch {
	case p.Healthy() && len(sites) > 0:
		return nil, fmt.Errorf("%s: a healthy program has a %q marker at %s", p.Name, Marker, sites[0].FileLine())
	case !p.Healthy() && len(sites) == 0:
		return nil, fmt.Errorf("%s: no %q marker on the blocking line in %s", p.Name, Marker, p.Dir)
	}
	slices.SortFunc(sites, func(a, b Site) int { return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line)) })
	return sites, nil
}

// rootRelative cuts an absolute source path to start at "progs/".
func rootRelative(name string) string {
	name = filepath.ToSlash(name)
	if i := strings.LastIndex(name, "/progs/"); i >= 0 {
		return name[i+1:]
	}
	return name
}

// enclosing returns the runtime name (without the package) of the
// function declaration containing pos, and whether pos is inside a
// function literal within it.
func enclosing(f *ast.File, pos token.Pos) (string, bool) {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil || pos < fd.Pos() || pos > fd.End() {
			continue
		}
		name := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) == 1 {
			switch t := fd.Recv.List[0].Type.(type) {
			case *ast.StarExpr:
				if id, ok := t.X.(*ast.Ident); ok {
					name = "(*" + id.Name + ")." + name
				}
			case *ast.Ident:
				name = t.Name + "." + name
			}
		}
		closure := false
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if fl, ok := n.(*ast.FuncLit); ok && pos >= fl.Pos() && pos <= fl.End() {
				closure = true
			}
			return !closure
		})
		return name, closure
	}
	return "", false
}
