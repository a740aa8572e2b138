package dump

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/asyncmon/asyncmon/model"
)

// StartFrame returns the goroutine's start function: the outermost frame
// of its stack, skipping runtime.goexit. When that frame is a standard
// library wrapper around user code (sync.(*WaitGroup).Go, runtime/pprof.Do,
// errgroup-style helpers in the standard library), the outermost user
// frame says more and is returned instead. It is zero when the stack is
// empty.
func StartFrame(g *model.Goroutine) model.Frame {
	fs := g.Frames
	for len(fs) > 0 && fs[len(fs)-1].Func == "runtime.goexit" {
		fs = fs[:len(fs)-1]
	}
	if len(fs) == 0 {
		return model.Frame{}
	}
	outer := fs[len(fs)-1]
	if outer.IsUser() {
		return outer
	}
	for i := len(fs) - 2; i >= 0; i-- {
		if fs[i].IsUser() {
			return fs[i]
		}
	}
	return outer
}

// TopFrames fills dst with the innermost user frames of frames (see
// [model.Frame.IsUser]). When there are none (a goroutine of the standard
// library, such as an HTTP server connection), it uses the innermost
// frames outside the plumbing ([model.PlumbingCode]); failing that, the
// outermost frame. It returns how many it filled.
func TopFrames(frames []model.Frame, dst []model.Frame) int {
	n := 0
	for _, f := range frames {
		if n == len(dst) {
			return n
		}
		if f.IsUser() {
			dst[n] = f
			n++
		}
	}
	if n > 0 {
		return n
	}
	for _, f := range frames {
		if n == len(dst) {
			return n
		}
		if model.CodeOf(f.Func) != model.PlumbingCode {
			dst[n] = f
			n++
		}
	}
	if n == 0 && len(dst) > 0 {
		// Only runtime frames: the start function (runtime.bgsweep,
		// runtime.gcBgMarkWorker, ...) says most.
		if f := StartFrame(&model.Goroutine{Frames: frames}); !f.IsZero() {
			dst[0] = f
			n = 1
		}
	}
	return n
}

// LabelString renders pprof labels canonically: sorted, quoted key=value
// pairs, each followed by a comma. Equal label sets give equal strings, so
// it serves as part of a group key and in golden files.
func LabelString(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString(strconv.Quote(k))
		sb.WriteByte('=')
		sb.WriteString(strconv.Quote(m[k]))
		sb.WriteByte(',')
	}
	return sb.String()
}
