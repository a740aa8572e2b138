package model

import (
	"path"
	"strconv"
	"strings"
)

// Frame is one function call in a stack.
type Frame struct {
	Func string `json:"func"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Site returns "file:line", or the function name where the file is unknown.
func (f Frame) Site() string {
	if f.File == "" {
		return f.Func
	}
	return f.File + ":" + strconv.Itoa(f.Line)
}

// IsZero reports whether f is the zero Frame.
func (f Frame) IsZero() bool { return f == Frame{} }

// # Whose code a frame is
//
// Every choice of "which frame of a stack names it" (a goroutine group's
// top frames, a connection's opening site, a stuck request's handler, the
// hottest function of a CPU profile, a contended call site) asks the one
// classifier below.

// Code says whose code a function is.
type Code uint8

const (
	// UserCode is the service's own code and its dependencies: what its
	// owners can change, and so what asyncmon names first.
	UserCode Code = iota
	// StdCode is the standard library above the plumbing: net/http,
	// database/sql, crypto/tls and the like. It says what a goroutine
	// of the library does (serves a connection, dials) when no user
	// frame does.
	StdCode
	// PlumbingCode is what goroutines block and run through: the
	// runtime, internal packages, sync, time, syscall, io, bufio and os.
	PlumbingCode
	// OwnCode is asyncmon's own agent and collectors (its wrappers and
	// middleware among them), which sit between the user's code and the
	// standard library in stacks and are never the answer. Their tests
	// are the user's code (see [Frame.Code]).
	OwnCode
)

// ownPackages are asyncmon's packages whose frames appear in the host's
// stacks: the agent (and its sub-packages) and the collectors.
var ownPackages = [...]string{"github.com/asyncmon/asyncmon/agent", "github.com/asyncmon/asyncmon/collectors"}

// CodeOf says whose code fn is: a function name as a stack prints it,
// e.g. "net/http.(*conn).serve", "main.handler", "github.com/x/y.(*T).Run".
// A package outside the standard library is one whose path's first
// element has a dot, or is not a standard one.
func CodeOf(fn string) Code {
	pkg := FuncPackage(fn)
	for _, own := range ownPackages {
		if rest, ok := strings.CutPrefix(pkg, own); ok && (rest == "" || rest[0] == '/') {
			return OwnCode
		}
	}
	root, _, _ := strings.Cut(pkg, "/")
	if strings.IndexByte(root, '.') >= 0 || !isStdRoot(root) {
		return UserCode
	}
	switch {
	case root == "runtime", root == "internal", root == "panic",
		pkg == "sync", pkg == "time", pkg == "syscall", pkg == "io", pkg == "bufio", pkg == "os":
		return PlumbingCode
	}
	return StdCode
}

// Code says whose code f is: [CodeOf] its function, except that frames of
// asyncmon's own packages in _test.go files are the user's code, since a
// test plays the service there.
func (f Frame) Code() Code {
	c := CodeOf(f.Func)
	if c == OwnCode && strings.HasSuffix(f.File, "_test.go") {
		return UserCode
	}
	return c
}

// IsUser reports whether f is the user's code ([UserCode]).
func (f Frame) IsUser() bool { return f.Func != "" && f.Code() == UserCode }

// IsUserFunc reports whether fn is the user's code ([UserCode]), for
// callers that have a function name and no file.
func IsUserFunc(fn string) bool { return CodeOf(fn) == UserCode }

// FuncPackage returns the import path of a function name as the runtime
// spells it: "net/http.(*Transport).RoundTrip" → "net/http",
// "github.com/x/y.(*T).Run.func1" → "github.com/x/y".
func FuncPackage(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return fn
	}
	return fn[:slash+1+dot]
}

// isStdRoot reports whether root is the first path element of a
// standard library package ("panic" is how tracebacks print
// runtime.gopanic).
func isStdRoot(root string) bool {
	switch root {
	case "archive", "bufio", "bytes", "cmp", "compress", "container", "context",
		"crypto", "database", "debug", "embed", "encoding", "errors", "expvar",
		"flag", "fmt", "go", "hash", "html", "image", "index", "internal", "io",
		"iter", "log", "maps", "math", "mime", "net", "os", "path", "plugin",
		"reflect", "regexp", "runtime", "slices", "sort", "strconv", "strings",
		"structs", "sync", "syscall", "testing", "text", "time", "unicode",
		"unique", "unsafe", "weak", "vendor", "panic":
		return true
	}
	return false
}

// # Showing a frame

// ShortFunc is the function name without its import path:
// "github.com/a/b/pkg.(*T).M" → "pkg.(*T).M".
func (f Frame) ShortFunc() string {
	return f.Func[strings.LastIndexByte(f.Func, '/')+1:]
}

// ShortSite is "file.go:42" with the directories trimmed, or the short
// function name where the file is unknown.
func (f Frame) ShortSite() string {
	if f.File == "" {
		return f.ShortFunc()
	}
	return path.Base(f.File) + ":" + strconv.Itoa(f.Line)
}

// Short is the one short display form of a frame: "pkg.(*T).M (file.go:42)",
// or the short function name where the file is unknown, or "-" for the
// zero frame.
func (f Frame) Short() string {
	switch {
	case f.IsZero():
		return "-"
	case f.File == "":
		return f.ShortFunc()
	}
	return f.ShortFunc() + " (" + f.ShortSite() + ")"
}
