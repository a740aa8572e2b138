package dump

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// ErrNoGoroutines is returned by [Parse] when the input holds no
// goroutine at all (for example an HTML error page instead of a dump).
var ErrNoGoroutines = errors.New("no goroutines in input")

// maxLineBytes bounds one line of a dump. Real lines are a few hundred
// bytes; a header with many long pprof labels is the longest legitimate
// kind. Longer lines are reported as malformed and skipped.
const maxLineBytes = 1 << 20

// maxParseErrors bounds Dump.Errors so a garbage input of millions of lines
// costs no more memory than a good one.
const maxParseErrors = 100

// Dump formats recognised by [Parse].
const (
	// FormatTraceback is the runtime's traceback text: pprof
	// goroutine?debug=2, runtime.Stack(buf, true), a panic or a SIGQUIT.
	FormatTraceback = "traceback"
	// FormatProfile is pprof goroutine?debug=1 text: stacks aggregated
	// with a count, no goroutine IDs, no wait reasons.
	FormatProfile = "profile"
)

// Dump is a parsed goroutine dump.
type Dump struct {
	// Format is FormatTraceback or FormatProfile.
	Format string
	// Goroutines are the goroutines of a traceback dump, in input order.
	Goroutines []model.Goroutine
	// Records are the aggregated stacks of a profile (debug=1) dump.
	// Their goroutines have no ID and a wait reason inferred from the
	// frames that pprof prints (it hides the runtime's own frames).
	Records []ProfileRecord
	// Total is the goroutine count: the profile's "total" line, or
	// len(Goroutines).
	Total int
	// Truncated is true when the input ended in the middle of a
	// goroutine: the runtime cuts debug=2 dumps at 64 MiB, and copies
	// get cut too. The goroutines before the cut are all there; the last
	// one holds the frames read before the cut.
	Truncated bool
	// Errors are the malformed lines, at most 100 of them, in input
	// order. The lines were skipped; everything else was read.
	Errors []*ParseError
	// Crash is set when the dump is a crash's output: a panic, a fatal
	// error or a fatal signal, with the goroutine that crashed.
	Crash *model.Crash
}

// ProfileRecord is one aggregated stack of a goroutine profile: Count
// goroutines with the same stack and labels.
type ProfileRecord struct {
	// Count is how many goroutines share this stack and labels.
	Count int
	// Goroutine holds the shared stack, labels and inferred wait reason;
	// its ID is 0.
	Goroutine model.Goroutine
	// PCs are the program counters of the stack as printed after "@".
	// They can be symbolised only inside the process that wrote them.
	PCs []uintptr
	// Leaked is how many of the Count goroutines the runtime's
	// goroutineleak profile reported (filled by the live collector).
	Leaked int
}

// ParseError is a malformed line of a dump.
type ParseError struct {
	// Line is the 1-based line number.
	Line int
	// Text is the line, cut to 200 bytes.
	Text string
	// Msg says what was expected.
	Msg string
}

// Error implements error.
func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d: %s: %q", e.Line, e.Msg, e.Text)
}

// Parse reads a goroutine dump: the text of pprof's goroutine profile
// at debug=2 (or debug=1), runtime.Stack(buf, true), or the traceback of a
// panic, fatal error or SIGQUIT at any GOTRACEBACK level, from Go 1.17 to
// Go 1.27 (including labels printed in tracebacks, in Go 1.26's form and
// in Go 1.27's, and "(leaked)" marks). Text around the goroutines (panic
// messages, signal and register lines, "exit status 2") is skipped.
//
// Parse never panics. It reads the whole input and returns everything
// valid it found. The error is nil for a clean input; it is the first
// [*ParseError] when some lines were malformed (all of them are in
// Dump.Errors), [ErrNoGoroutines] when nothing was found, or the read
// error. A dump cut off mid-way is not an error: Dump.Truncated says so.
func Parse(r io.Reader) (*Dump, error) {
	p := newParser(r)
	err := p.run()
	d := p.dump
	if d.Format == FormatTraceback {
		d.Total = len(d.Goroutines)
		d.Crash = p.crashReport()
	}
	if err != nil {
		return d, fmt.Errorf("read dump: %w", err)
	}
	if len(d.Errors) > 0 {
		return d, d.Errors[0]
	}
	if len(d.Goroutines) == 0 && len(d.Records) == 0 {
		return d, ErrNoGoroutines
	}
	return d, nil
}

// parser states.
const (
	stOutside   = iota // between goroutines
	stFrames           // after a header or a frame: a function line, created by, or the end
	stFile             // after a function line: its file line
	stCreator          // after "created by": its file line
	stAncestors        // inside "[originating from goroutine N]:" blocks
	stRecord           // inside a debug=1 record
)

type parser struct {
	br      *bufio.Reader
	long    []byte // accumulates lines longer than the bufio buffer
	lineNo  int
	lastNL  bool // the last line read ended with '\n'
	state   int
	dump    *Dump
	cur     *model.Goroutine
	rec     *ProfileRecord
	frames  []model.Frame // frames of cur, copied into slab at the end
	slab    []model.Frame
	pcs     []uintptr
	pcSlab  []uintptr
	intern  map[string]string
	files   map[string]fileLine
	pending model.Frame  // function line waiting for its file line
	prefix  []byte       // shape of a log prefix to strip; nil until known
	memos   []memo       // previous goroutine's lines by depth
	spare   memo         // shared by the depths beyond memos
	crash   *crashHeader // the crash message, when the text has one
}

// fileLine is a parsed "\tfile:line" suffix, memoised by its text.
type fileLine struct {
	file string
	line int
}

func newParser(r io.Reader) *parser {
	return &parser{
		br:     bufio.NewReaderSize(r, 256<<10),
		dump:   &Dump{Format: FormatTraceback},
		intern: make(map[string]string, 1024),
		files:  make(map[string]fileLine, 1024),
	}
}

// readLine returns the next line without its line ending. ok is false at
// the end of the input.
func (p *parser) readLine() (line []byte, ok bool, err error) {
	p.long = p.long[:0]
	tooLong := false
	for {
		b, e := p.br.ReadSlice('\n')
		if e == bufio.ErrBufferFull {
			if len(p.long)+len(b) <= maxLineBytes {
				p.long = append(p.long, b...)
			} else {
				tooLong = true
			}
			continue
		}
		if len(p.long) > 0 || tooLong {
			if len(p.long)+len(b) <= maxLineBytes {
				p.long = append(p.long, b...)
			} else {
				tooLong = true
			}
			b = p.long
		}
		if e != nil && e != io.EOF {
			return nil, false, e
		}
		if len(b) == 0 && e == io.EOF {
			return nil, false, nil
		}
		p.lineNo++
		p.lastNL = len(b) > 0 && b[len(b)-1] == '\n'
		if p.lastNL {
			b = b[:len(b)-1]
		}
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		if tooLong {
			p.fail(b, "line longer than 1 MiB")
			b = nil
		}
		return b, true, nil
	}
}

func (p *parser) fail(line []byte, msg string) {
	if !p.lastNL {
		// The last line of a cut dump: not malformed, just cut.
		p.dump.Truncated = true
		return
	}
	if len(p.dump.Errors) >= maxParseErrors {
		return
	}
	if len(line) > 200 {
		line = line[:200]
	}
	p.dump.Errors = append(p.dump.Errors, &ParseError{Line: p.lineNo, Text: string(line), Msg: msg})
}

func (p *parser) str(b []byte) string {
	if s, ok := p.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	p.intern[s] = s
	return s
}

func (p *parser) run() error {
	first := true
	for {
		line, ok, err := p.readLine()
		if err != nil {
			p.finish(true)
			return err
		}
		if !ok {
			break
		}
		if first && len(line) > 0 {
			first = false
			// "goroutine profile: total N", or "goroutineleak profile:
			// total N" for Go 1.26's leak profile.
			if i := bytes.Index(line, []byte(" profile: total ")); i > 0 && bytes.HasPrefix(line, []byte("goroutine")) {
				p.dump.Format = FormatProfile
				n, err := strconv.Atoi(string(line[i+len(" profile: total "):]))
				if err != nil {
					p.fail(line, "bad goroutine total")
				}
				p.dump.Total = n
				continue
			}
		}
		if p.dump.Format == FormatProfile {
			p.profileLine(line)
			continue
		}
		if p.prefix == nil && p.state == stOutside {
			p.learnPrefix(line)
		}
		if p.prefix != nil {
			line = p.stripPrefix(line)
		}
		p.tracebackLine(line)
	}
	p.finish(!p.lastNL && p.lineNo > 0)
	return nil
}

// learnPrefix notices a dump copied from a log that prefixes every line
// (a timestamp, a host name): when the first goroutine header starts after
// some text, that text's shape is learnt and stripped from every line.
func (p *parser) learnPrefix(line []byte) {
	if bytes.HasPrefix(line, prefixGoroutine) {
		p.prefix = []byte{} // a plain dump: never look again
		return
	}
	i := bytes.Index(line, []byte(" goroutine "))
	if i < 0 || bytes.IndexByte(line[:i], '\t') >= 0 {
		return
	}
	if _, ok := p.header(line[i+1:]); !ok {
		return
	}
	p.prefix = shape(append([]byte(nil), line[:i+1]...))
}

// stripPrefix removes a learnt log prefix from line: any text of the same
// shape (digits may differ) and length. A line that is only the prefix,
// trailing spaces trimmed, is the blank line between goroutines.
func (p *parser) stripPrefix(line []byte) []byte {
	n := len(p.prefix)
	if n == 0 {
		return line
	}
	if len(line) >= n && sameShape(line[:n], p.prefix) {
		return line[n:]
	}
	if t := bytes.TrimRight(p.prefix, " "); len(line) == len(t) && sameShape(line, t) {
		return nil
	}
	return line
}

// shape replaces the digits of b with '0', in place.
func shape(b []byte) []byte {
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = '0'
		}
	}
	return b
}

// sameShape reports whether b equals the shape s, digits matching digits.
func sameShape(b, s []byte) bool {
	for i, c := range b {
		if c >= '0' && c <= '9' {
			c = '0'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// finish closes the goroutine or record in progress at the end of input.
// cut says the last line had no newline.
func (p *parser) finish(cut bool) {
	switch p.state {
	case stFrames, stAncestors, stRecord:
		if cut || (p.cur != nil && len(p.frames) == 0 && p.state == stFrames && !p.noStack()) {
			p.dump.Truncated = true
		}
	case stFile, stCreator:
		p.dump.Truncated = true
	}
	p.endBlock()
}

// noStack reports whether cur legitimately has no frames ("goroutine
// running on other thread; stack unavailable").
func (p *parser) noStack() bool { return p.cur != nil && p.cur.State == "running" }

var (
	prefixGoroutine  = []byte("goroutine ")
	prefixCreatedBy  = []byte("created by ")
	prefixOriginated = []byte("[originating from goroutine ")
	lineElided       = []byte("...additional frames elided...")
	lineNoStack      = []byte("\tgoroutine running on other thread; stack unavailable")
	prefixNonGo      = []byte("non-Go function at pc=")
	prefixExitStatus = []byte("exit status ")
)

func (p *parser) tracebackLine(line []byte) {
	switch p.state {
	case stOutside:
		if bytes.HasPrefix(line, prefixGoroutine) {
			if g, ok := p.header(line); ok {
				p.begin(g)
				return
			}
		}
		if !p.lastNL && (bytes.HasPrefix(line, prefixGoroutine) || bytes.HasPrefix(prefixGoroutine, line)) {
			// A header cut off by the end of the input.
			p.dump.Truncated = true
		}
		// Anything else between goroutines is the text around a dump,
		// a crash's message among it.
		p.crashLine(line)
		return
	case stAncestors:
		if len(line) == 0 {
			p.endBlock()
		} else if bytes.HasPrefix(line, prefixGoroutine) {
			p.headerOrFail(line)
		}
		return
	case stFile, stCreator:
		if len(line) > 0 && line[0] == '\t' {
			var fl fileLine
			ok := true
			m := &p.spare
			if p.state == stFile {
				m = p.memoAt(len(p.frames))
			}
			if m.fn == p.pending.Func && len(m.fileLine) > 0 && bytes.Equal(m.fileLine, line) {
				fl = m.fl
			} else {
				fl, ok = p.fileLine(line[1:])
				if ok && m.fn == p.pending.Func && m != &p.spare {
					m.fileLine = append(m.fileLine[:0], line...)
					m.fl = fl
				}
			}
			if !ok {
				p.fail(line, "malformed file:line")
				if p.state == stFile {
					p.frames = append(p.frames, p.pending)
				}
				p.state = stFrames
				return
			}
			f := p.pending
			f.File, f.Line = fl.file, fl.line
			if p.state == stFile {
				p.frames = append(p.frames, f)
			} else {
				p.cur.CreatedBy = f
			}
			p.state = stFrames
			return
		}
		p.fail(line, "expected a tab-indented file:line")
		if p.state == stFile {
			// Keep the function without its position.
			p.frames = append(p.frames, p.pending)
		}
		p.state = stFrames
		// The line may still start something valid.
	}
	// stFrames
	switch {
	case len(line) == 0:
		p.endBlock()
	case line[0] == '\t':
		if bytes.Equal(line, lineNoStack) {
			return
		}
		p.fail(line, "file:line without a function line")
	case bytes.HasPrefix(line, prefixCreatedBy):
		p.creator(line[len(prefixCreatedBy):])
	case line[0] == '.' && bytes.HasPrefix(line, []byte("...")) && bytes.HasSuffix(line, []byte("elided...")):
		if bytes.Equal(line, lineElided) || isMiddleElided(line) {
			p.cur.FramesElided = true
			return
		}
		p.fail(line, "unknown elision line")
	case bytes.HasPrefix(line, prefixGoroutine):
		p.headerOrFail(line)
	case bytes.HasPrefix(line, prefixOriginated):
		p.state = stAncestors
	case bytes.HasPrefix(line, prefixExitStatus):
		// "go run" prints this right after the last frame of a crash.
		p.endBlock()
	case bytes.HasPrefix(line, prefixNonGo):
		p.frames = append(p.frames, model.Frame{Func: p.str(line)})
	default:
		// Goroutines started at one site print the same lines: compare
		// with the previous goroutine's line at this depth before
		// parsing and interning.
		m := p.memoAt(len(p.frames))
		if m.fn != "" && bytes.Equal(m.funcLine, line) {
			p.pending = model.Frame{Func: m.fn}
			p.state = stFile
			return
		}
		name, ok := funcName(line)
		if !ok {
			p.fail(line, "expected a function call, \"created by\" or a blank line")
			return
		}
		p.pending = model.Frame{Func: p.str(name)}
		m.funcLine = append(m.funcLine[:0], line...)
		m.fn = p.pending.Func
		m.fileLine = m.fileLine[:0]
		p.state = stFile
	}
}

// memo is the previous goroutine's frame at one depth, as lines.
type memo struct {
	funcLine []byte
	fn       string
	fileLine []byte
	fl       fileLine
}

// memoAt returns the memo for depth i, growing the table as needed
// (bounded: deeper frames are parsed without it).
func (p *parser) memoAt(i int) *memo {
	if i >= 256 {
		return &p.spare
	}
	for len(p.memos) <= i {
		p.memos = append(p.memos, memo{})
	}
	return &p.memos[i]
}

// headerOrFail ends the current goroutine and starts the one in line.
func (p *parser) headerOrFail(line []byte) {
	g, ok := p.header(line)
	if !ok {
		p.fail(line, "malformed goroutine header")
		return
	}
	p.endBlock()
	p.begin(g)
}

// isMiddleElided matches "...N frames elided..." (Go 1.21+ prints it
// between the innermost and outermost frames of very deep stacks).
func isMiddleElided(line []byte) bool {
	s := line[3:]
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && string(s[i:]) == " frames elided..."
}

func (p *parser) creator(rest []byte) {
	name := rest
	var parent int64
	if i := bytes.Index(rest, []byte(" in goroutine ")); i >= 0 {
		name = rest[:i]
		n, err := strconv.ParseInt(string(rest[i+len(" in goroutine "):]), 10, 64)
		if err != nil {
			p.fail(rest, "malformed creator goroutine id")
		}
		parent = n
	}
	if len(name) == 0 {
		p.fail(rest, "empty creator")
		return
	}
	p.cur.ParentID = parent
	p.pending = model.Frame{Func: p.str(name)}
	p.state = stCreator
}

// funcName returns the function of a frame line "pkg.F(args)".
func funcName(line []byte) ([]byte, bool) {
	if line[len(line)-1] != ')' {
		return nil, false
	}
	i := bytes.LastIndexByte(line, '(')
	if i <= 0 || line[0] == ' ' {
		return nil, false
	}
	return line[:i], true
}

// fileLine parses "path/file.go:123 +0x1d fp=... sp=... pc=...".
func (p *parser) fileLine(b []byte) (fileLine, bool) {
	if fl, ok := p.files[string(b)]; ok {
		return fl, true
	}
	i := bytes.LastIndexByte(b, ':')
	if i <= 0 {
		return fileLine{}, false
	}
	j := i + 1
	n := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		if n < 1<<30 {
			n = n*10 + int(b[j]-'0')
		}
		j++
	}
	if j == i+1 || (j < len(b) && b[j] != ' ') {
		return fileLine{}, false
	}
	fl := fileLine{file: p.str(b[:i]), line: n}
	if len(p.files) < 1<<16 {
		p.files[string(b)] = fl
	}
	return fl, true
}

// header parses "goroutine 18 [chan receive, 2 minutes]:" in all its
// forms: "gp=... m=... mp=..." under GOTRACEBACK=system, suffixes such as
// "(leaked)", "(scan)" and "(durable)", ", locked to thread", ", synctest
// bubble N", Go 1.26's labels inside the brackets (" labels:{...}]:")
// and Go 1.27's after them ("] {...}:").
func (p *parser) header(line []byte) (model.Goroutine, bool) {
	var g model.Goroutine
	rest := line[len(prefixGoroutine):]
	i := 0
	var id int64
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		if id < 1<<60 {
			id = id*10 + int64(rest[i]-'0')
		}
		i++
	}
	if i == 0 || i == len(rest) || rest[i] != ' ' {
		return g, false
	}
	g.ID = id
	rest = rest[i:]
	open := bytes.IndexByte(rest, '[')
	if open < 0 {
		return g, false
	}
	var body []byte
	switch {
	case bytes.HasSuffix(rest, []byte("]:")):
		body = rest[open+1 : len(rest)-2]
	case bytes.HasSuffix(rest, []byte("}:")):
		// Go 1.27: "[state, N minutes] {k: v, "k 2": "v 2"}:". A bare
		// key or value has no space, bracket or brace, so the first
		// "] {" ends the state.
		end := bytes.Index(rest, []byte("] {"))
		if end < open {
			return g, false
		}
		body = rest[open+1 : end]
		labels, ok := parseLabels(rest[end+2 : len(rest)-1])
		if !ok {
			p.fail(line, "malformed labels")
		}
		g.Labels = labels
	default:
		return g, false
	}
	if li := bytes.Index(body, []byte(" labels:{")); li >= 0 {
		labels, ok := parseLabels(body[li+len(" labels:"):])
		if !ok {
			p.fail(line, "malformed labels")
		}
		g.Labels = labels
		body = body[:li]
	}
	state := body
	if c := bytes.IndexByte(body, ','); c >= 0 {
		state = body[:c]
		for _, part := range bytes.Split(body[c+1:], []byte(",")) {
			part = bytes.TrimSpace(part)
			switch {
			case bytes.Equal(part, []byte("locked to thread")):
				g.LockedToThread = true
			case bytes.HasSuffix(part, []byte(" minutes")):
				m, err := strconv.Atoi(string(part[:len(part)-len(" minutes")]))
				if err != nil || m < 0 {
					p.fail(line, "malformed wait minutes")
					continue
				}
				g.Wait = time.Duration(m) * time.Minute
			}
			// Other parts ("synctest bubble N") carry nothing we keep.
		}
	}
	for {
		switch {
		case bytes.HasSuffix(state, []byte(" (leaked)")):
			g.Leaked = true
			state = state[:len(state)-len(" (leaked)")]
			continue
		case bytes.HasSuffix(state, []byte(" (scan)")):
			state = state[:len(state)-len(" (scan)")]
			continue
		}
		break
	}
	if len(state) == 0 {
		return g, false
	}
	g.State = p.str(state)
	return g, true
}

// parseLabels parses {"k": "v", "k2": "v2"} (Go 1.26 tracebacklabels),
// {"k":"v", "k2":"v2"} (pprof debug=1) and {k: v, "k 2": "v 2"} (Go 1.27
// tracebacks, which quote a key or value only when it needs it).
func parseLabels(b []byte) (map[string]string, bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	b = b[1 : len(b)-1]
	m := make(map[string]string)
	for len(b) > 0 {
		k, rest, ok := labelString(b)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return m, false
		}
		rest = bytes.TrimLeft(rest[1:], " ")
		v, rest2, ok := labelString(rest)
		if !ok {
			return m, false
		}
		m[k] = v
		b = rest2
		if len(b) == 0 {
			break
		}
		if !bytes.HasPrefix(b, []byte(", ")) {
			return m, false
		}
		b = b[2:]
	}
	if len(m) == 0 {
		return nil, true
	}
	return m, true
}

// labelString reads a label key or value from the front of b: Go-quoted,
// or bare as Go 1.27 prints the ones made only of letters, digits, '.',
// '/' and '_' (the empty string among them).
func labelString(b []byte) (string, []byte, bool) {
	if len(b) > 0 && b[0] == '"' {
		return quotedString(b)
	}
	i := 0
	for i < len(b) && bareLabelByte(b[i]) {
		i++
	}
	return string(b[:i]), b[i:], true
}

func bareLabelByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '/' || c == '_'
}

// quotedString reads one Go-quoted string from the front of b.
func quotedString(b []byte) (string, []byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return "", nil, false
	}
	esc := false
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			esc = true
			i++
		case '"':
			if !esc {
				return string(b[1:i]), b[i+1:], true
			}
			s, err := strconv.Unquote(string(b[:i+1]))
			if err != nil {
				return "", nil, false
			}
			return s, b[i+1:], true
		}
	}
	return "", nil, false
}

func (p *parser) begin(g model.Goroutine) {
	g.WaitReason = NormalizeWaitReason(g.State)
	p.dump.Goroutines = append(p.dump.Goroutines, g)
	p.cur = &p.dump.Goroutines[len(p.dump.Goroutines)-1]
	p.frames = p.frames[:0]
	p.state = stFrames
}

// endBlock stores the frames of the goroutine or record in progress.
func (p *parser) endBlock() {
	var g *model.Goroutine
	switch {
	case p.rec != nil:
		g = &p.rec.Goroutine
		p.rec.PCs = p.takePCs()
	case p.cur != nil:
		g = p.cur
		p.cur = nil
	default:
		p.state = stOutside
		return
	}
	nPCs := len(p.pcs)
	if p.rec != nil {
		nPCs = len(p.rec.PCs)
	}
	g.Frames = p.takeFrames()
	switch {
	case p.dump.Format == FormatProfile:
		g.WaitReason = InferWaitReason(g.Frames)
		if g.WaitReason == model.WaitRunnable && nPCs > len(g.Frames)+1 {
			// pprof hid the runtime frames the goroutine is parked
			// in: it waits, on something the text does not say.
			g.WaitReason = model.WaitOther
		}
	case g.State == "semacquire":
		// What Go before 1.20 printed for mutexes and wait groups
		// alike; the frames tell them apart.
		if r := InferWaitReason(g.Frames); r != model.WaitOther {
			g.WaitReason = r
		}
	}
	p.rec = nil
	p.state = stOutside
}

// takeFrames moves p.frames into the slab: one allocation per 4096
// frames instead of one per goroutine.
func (p *parser) takeFrames() []model.Frame {
	n := len(p.frames)
	if n == 0 {
		return nil
	}
	if len(p.slab)+n > cap(p.slab) {
		p.slab = make([]model.Frame, 0, max(4096, n))
	}
	start := len(p.slab)
	p.slab = append(p.slab, p.frames...)
	p.frames = p.frames[:0]
	return p.slab[start : start+n : start+n]
}

func (p *parser) takePCs() []uintptr {
	n := len(p.pcs)
	if n == 0 {
		return nil
	}
	if len(p.pcSlab)+n > cap(p.pcSlab) {
		p.pcSlab = make([]uintptr, 0, max(4096, n))
	}
	start := len(p.pcSlab)
	p.pcSlab = append(p.pcSlab, p.pcs...)
	p.pcs = p.pcs[:0]
	return p.pcSlab[start : start+n : start+n]
}

// profileLine reads pprof debug=1 text:
//
//	3 @ 0x43d1ee 0x40a7c5 0x4716e1
//	# labels: {"k":"v"}
//	#	0x4a2d24	main.worker+0x24	/src/main.go:12
func (p *parser) profileLine(line []byte) {
	switch {
	case len(line) == 0:
		if p.rec != nil {
			p.endBlock()
		}
	case line[0] == '#':
		if p.rec == nil {
			p.fail(line, "comment outside a record")
			return
		}
		if bytes.HasPrefix(line, []byte("# labels: ")) {
			labels, ok := parseLabels(line[len("# labels: "):])
			if !ok {
				p.fail(line, "malformed labels")
			}
			p.rec.Goroutine.Labels = labels
			return
		}
		if len(line) < 2 || line[1] != '\t' {
			p.fail(line, "expected \"#\\t\" frame line")
			return
		}
		f, ok := p.profileFrame(line[2:])
		if !ok {
			p.fail(line, "malformed frame")
			return
		}
		p.frames = append(p.frames, f)
	default:
		at := bytes.Index(line, []byte(" @"))
		if at < 0 {
			p.fail(line, "expected \"COUNT @ PC...\"")
			return
		}
		n, err := strconv.Atoi(string(line[:at]))
		if err != nil || n < 0 {
			p.fail(line, "malformed record count")
			return
		}
		if p.rec != nil {
			p.endBlock()
		}
		for _, f := range bytes.Fields(line[at+2:]) {
			pc, err := strconv.ParseUint(strings.TrimPrefix(string(f), "0x"), 16, 64)
			if err != nil {
				p.fail(line, "malformed program counter")
				break
			}
			p.pcs = append(p.pcs, uintptr(pc))
		}
		p.dump.Records = append(p.dump.Records, ProfileRecord{Count: n})
		p.rec = &p.dump.Records[len(p.dump.Records)-1]
		p.frames = p.frames[:0]
		p.state = stRecord
	}
}

// profileFrame parses "0x4a2d24\tmain.worker+0x24\t/src/main.go:12" (or
// a bare "0x4a2d24" for an unknown function).
func (p *parser) profileFrame(b []byte) (model.Frame, bool) {
	// tabwriter pads the columns with more tabs.
	parts := bytes.FieldsFunc(b, func(r rune) bool { return r == '\t' })
	switch len(parts) {
	case 1:
		return model.Frame{Func: p.str(parts[0])}, true
	case 3:
	default:
		return model.Frame{}, false
	}
	name := parts[1]
	if i := bytes.LastIndex(name, []byte("+0x")); i > 0 {
		name = name[:i]
	}
	fl, ok := p.fileLine(parts[2])
	if !ok {
		return model.Frame{}, false
	}
	return model.Frame{Func: p.str(name), File: fl.file, Line: fl.line}, true
}
