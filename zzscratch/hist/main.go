package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/asyncmon/asyncmon/agent/client"
	"github.com/asyncmon/asyncmon/detectors"
	"github.com/asyncmon/asyncmon/model"
)

func main() {
	var snaps []*model.Snapshot
	if len(os.Args) > 2 {
		b, _ := os.ReadFile(os.Args[2])
		json.Unmarshal(b, &snaps)
	} else {
		c, _ := client.New(os.Args[1])
		var err error
		snaps, err = c.History(context.Background(), time.Now().Add(-2*time.Minute))
		if err != nil {
			panic(err)
		}
		b, _ := json.Marshal(snaps)
		os.WriteFile("/tmp/hist.json", b, 0o644)
	}
	fmt.Println(len(snaps))
	w := model.Window{Snapshots: snaps}
	for _, f := range detectors.NewStall(detectors.StallConfig{}).Detect(w) {
		fmt.Println(f.Title, f.Cause)
	}
	last := snaps[len(snaps)-1]
	fmt.Println(last.GroupsTime, last.Time)
	for _, s := range snaps[len(snaps)-40:] {
		fmt.Print(s.GroupsTime.Format("05.000"), " ")
	}
	fmt.Println()
}
