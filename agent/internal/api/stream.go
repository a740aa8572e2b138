package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// MaxSubscribers bounds concurrent /api/v1/stream clients: each holds a
// goroutine and a connection in the host. Config.Stream is made with it.
const MaxSubscribers = 64

// streamWriteTimeout bounds one event write to a stream client.
const streamWriteTimeout = 10 * time.Second

// handleStream serves Server-Sent Events: the latest snapshot at once, then
// one "snapshot" event per collection, until the client leaves or the agent
// closes.
func (a *API) handleStream(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rc := http.NewResponseController(w)
	ch := a.stream.Subscribe()
	if ch == nil {
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("too many stream clients (limit %d)", MaxSubscribers))
		return
	}
	defer a.stream.Unsubscribe(ch)
	// The stream outlives the server's ReadTimeout, whose expiry would
	// cancel the request; each write below has its own deadline.
	_ = rc.SetReadDeadline(time.Time{})

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(s *model.Snapshot) error {
		data, err := a.snapJSON.encode(s)
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
	if s := a.src.Latest(); s != nil {
		if send(s) != nil {
			return
		}
		last = s.Seq
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-a.done:
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
