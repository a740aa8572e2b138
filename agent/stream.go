package agent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// maxSubscribers bounds concurrent /api/v1/stream clients: each holds a
// goroutine and a connection in the host.
const maxSubscribers = 64

// streamWriteTimeout bounds one event write to a stream client.
const streamWriteTimeout = 10 * time.Second

// broker fans snapshots out to stream subscribers. Publishing never
// blocks: each subscriber has a one-slot mailbox, and a subscriber that has
// not taken the previous snapshot gets the newer one in its place. A slow
// client therefore sees fewer snapshots, never stalls the agent.
type broker struct {
	cnt  *counters  // counts refused clients and dropped snapshots
	mu   sync.Mutex // guards subs
	subs map[chan *model.Snapshot]struct{}
}

func newBroker(cnt *counters) *broker {
	return &broker{cnt: cnt, subs: make(map[chan *model.Snapshot]struct{})}
}

// subscribe returns a mailbox, or nil when there are too many subscribers.
func (b *broker) subscribe() chan *model.Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) >= maxSubscribers {
		b.cnt.hit(LimitStreamClients)
		return nil
	}
	ch := make(chan *model.Snapshot, 1)
	b.subs[ch] = struct{}{}
	return ch
}

func (b *broker) unsubscribe(ch chan *model.Snapshot) {
	b.mu.Lock()
	delete(b.subs, ch)
	b.mu.Unlock()
}

func (b *broker) publish(s *model.Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- s:
			continue
		default:
		}
		select { // full: drop the stale snapshot, keep the newest
		case <-ch:
			b.cnt.hit(LimitStreamDropped)
		default:
		}
		select {
		case ch <- s:
		default:
		}
	}
}

// handleStream serves Server-Sent Events: the latest snapshot at once, then
// one "snapshot" event per collection, until the client leaves or the agent
// closes.
func (a *Agent) handleStream(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rc := http.NewResponseController(w)
	ch := a.stream.subscribe()
	if ch == nil {
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("too many stream clients (limit %d)", maxSubscribers))
		return
	}
	defer a.stream.unsubscribe(ch)
	// The stream outlives the server's ReadTimeout, whose expiry would
	// cancel the request; each write below has its own deadline.
	_ = rc.SetReadDeadline(time.Time{})

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(s *model.Snapshot) error {
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		// A client that stops reading must not pin this goroutine.
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := fmt.Fprintf(w, "id: %d\nevent: snapshot\ndata: %s\n\n", s.Seq, data); err != nil {
			return err
		}
		return rc.Flush()
	}
	var last uint64 // the newest sequence number sent
	if s := a.Latest(); s != nil {
		if send(s) != nil {
			return
		}
		last = s.Seq
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-a.ctx.Done():
			return
		case s := <-ch:
			// Published between subscribe and Latest: already sent.
			if s.Seq <= last {
				continue
			}
			if send(s) != nil {
				return
			}
			last = s.Seq
		}
	}
}

// count returns the number of subscribers.
func (b *broker) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
