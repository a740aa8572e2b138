package recording_test

import (
	"context"
	"log"

	"github.com/asyncmon/asyncmon/tui"
	"github.com/asyncmon/asyncmon/tui/recording"
)

// Replaying a recording made with `asyncmon attach --record`, ten times
// faster than it was recorded.
func ExampleOpen() {
	src, err := recording.Open("incident.jsonl.gz", recording.Options{Speed: 10})
	if err != nil {
		log.Fatal(err) // not a recording, or a newer format: said plainly
	}
	defer src.Close()
	if err := tui.Run(context.Background(), tui.Options{Source: src}); err != nil {
		log.Fatal(err)
	}
}
