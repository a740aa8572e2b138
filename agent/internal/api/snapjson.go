package api

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/asyncmon/asyncmon/model"
)

// snapJSON keeps the JSON encoding of the last few snapshots, so that
// however many clients read a snapshot (SSE streams, /snapshot and
// /history pollers), the agent encodes it once: encoding is most of the
// cost of serving them. Published snapshots are never modified, so their
// encoding never goes stale.
type snapJSON struct {
	mu      sync.Mutex // guards entries and next
	entries [snapJSONEntries]*encodedSnap
	next    int // the entry the next new snapshot replaces
}

// snapJSONEntries bounds the cache: the latest snapshots, which streams
// and pollers read, and a short history page.
const snapJSONEntries = 16

type encodedSnap struct {
	snap *model.Snapshot
	once sync.Once
	data []byte // the encoding, without a trailing newline
	err  error
}

// encode returns the JSON encoding of s (no trailing newline). The
// caller must not modify it. Concurrent callers for the same snapshot
// wait for one encoding.
func (c *snapJSON) encode(s *model.Snapshot) ([]byte, error) {
	c.mu.Lock()
	var e *encodedSnap
	for _, x := range c.entries {
		if x != nil && x.snap == s {
			e = x
			break
		}
	}
	if e == nil {
		e = &encodedSnap{snap: s}
		c.entries[c.next] = e
		c.next = (c.next + 1) % len(c.entries)
	}
	c.mu.Unlock()
	e.once.Do(func() {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // as writeJSON
		e.err = enc.Encode(s)
		e.data = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	})
	return e.data, e.err
}
