package dump

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/asyncmon/asyncmon/model"
)

// ContentionProfile is a parsed block or mutex profile in pprof's debug=1
// text form.
type ContentionProfile struct {
	// Name is "contention" (block) or "mutex".
	Name string
	// CyclesPerSecond converts Cycles to seconds.
	CyclesPerSecond int64
	// SamplingPeriod is the mutex profile fraction, 0 for block.
	SamplingPeriod int64
	// Records are the profile's stacks, largest delay first.
	Records []ContentionRecord
}

// ContentionRecord is one stack of a contention profile. Count and Cycles
// are cumulative, already scaled by the runtime for its sampling.
type ContentionRecord struct {
	Cycles int64
	Count  int64
	// Frames are innermost first.
	Frames []model.Frame
	// Key identifies the stack: its program counters as the profile
	// prints them.
	Key string
}

// Seconds converts cycles of this profile to seconds (0 without a
// cycle rate).
func (cp *ContentionProfile) Seconds(cycles int64) float64 {
	if cp.CyclesPerSecond <= 0 {
		return 0
	}
	return float64(cycles) / float64(cp.CyclesPerSecond)
}

// ParseContention reads the debug=1 text of the block or mutex profile:
//
//	--- mutex:
//	cycles/second=2400000000
//	sampling period=10
//	48000 3 @ 0x4710e5 0x4a0c33 0x46f2a1
//	#	0x4710e4	sync.(*Mutex).Unlock+0x44	/go/src/sync/mutex.go:229
func ParseContention(r io.Reader) (*ContentionProfile, error) {
	cp := &ContentionProfile{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	p := newParser(nil)
	lineNo := 0
	var cur *ContentionRecord
	for sc.Scan() {
		lineNo++
		line := bytes.TrimRight(sc.Bytes(), "\r")
		switch {
		case len(line) == 0:
		case bytes.HasPrefix(line, []byte("--- ")):
			cp.Name = strings.TrimSuffix(string(line[4:]), ":")
		case bytes.HasPrefix(line, []byte("cycles/second=")):
			n, err := strconv.ParseInt(string(line[len("cycles/second="):]), 10, 64)
			if err != nil {
				return cp, fmt.Errorf("line %d: malformed cycles/second: %q", lineNo, line)
			}
			cp.CyclesPerSecond = n
		case bytes.HasPrefix(line, []byte("sampling period=")):
			n, err := strconv.ParseInt(string(line[len("sampling period="):]), 10, 64)
			if err != nil {
				return cp, fmt.Errorf("line %d: malformed sampling period: %q", lineNo, line)
			}
			cp.SamplingPeriod = n
		case line[0] == '#':
			if cur == nil || len(line) < 2 || line[1] != '\t' {
				continue // other comment lines
			}
			f, ok := p.profileFrame(line[2:])
			if !ok {
				return cp, fmt.Errorf("line %d: malformed frame: %q", lineNo, line)
			}
			cur.Frames = append(cur.Frames, f)
		default:
			at := bytes.Index(line, []byte(" @"))
			fields := bytes.Fields(line[:max(at, 0)])
			if at < 0 || len(fields) != 2 {
				return cp, fmt.Errorf("line %d: expected \"CYCLES COUNT @ PC...\": %q", lineNo, line)
			}
			cycles, err1 := strconv.ParseInt(string(fields[0]), 10, 64)
			count, err2 := strconv.ParseInt(string(fields[1]), 10, 64)
			if err1 != nil || err2 != nil {
				return cp, fmt.Errorf("line %d: malformed cycles or count: %q", lineNo, line)
			}
			cp.Records = append(cp.Records, ContentionRecord{Cycles: cycles, Count: count, Key: string(bytes.TrimSpace(line[at+2:]))})
			cur = &cp.Records[len(cp.Records)-1]
		}
	}
	if err := sc.Err(); err != nil {
		return cp, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	return cp, nil
}
