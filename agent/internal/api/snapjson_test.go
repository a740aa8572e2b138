package api

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/asyncmon/asyncmon/model"
)

// TestSnapJSONEncodesOnce checks that concurrent readers of one snapshot
// share one encoding, which decodes to the snapshot, and that the cache
// keeps only the latest snapJSONEntries snapshots.
func TestSnapJSONEncodesOnce(t *testing.T) {
	var c snapJSON
	s := &model.Snapshot{Seq: 7, Goroutines: model.Goroutines{Total: 42}}
	const readers = 50
	got := make([][]byte, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			b, err := c.encode(s)
			if err != nil {
				t.Error(err)
			}
			got[i] = b
		})
	}
	wg.Wait()
	for i := 1; i < readers; i++ {
		if &got[i][0] != &got[0][0] {
			t.Fatalf("reader %d got an encoding of its own: each reader encoded the snapshot", i)
		}
	}
	var back model.Snapshot
	if err := json.Unmarshal(got[0], &back); err != nil || back.Seq != 7 || back.Goroutines.Total != 42 {
		t.Fatalf("encoding %s decodes to seq %d, %d goroutines (%v); want seq 7, 42", got[0], back.Seq, back.Goroutines.Total, err)
	}

	// Newer snapshots push the oldest out: the cache stays bounded.
	for i := range snapJSONEntries {
		if _, err := c.encode(&model.Snapshot{Seq: uint64(100 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	again, _ := c.encode(s)
	if &again[0] == &got[0][0] {
		t.Errorf("snapshot 7 still cached after %d newer ones; the cache holds %d", snapJSONEntries, snapJSONEntries)
	}
}
