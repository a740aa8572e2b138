// Command gen writes asyncmon's Grafana dashboards to grafana/*.json.
//
// Run it from the dashboards directory: go generate ./... (or go run ./gen).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/asyncmon/asyncmon/dashboards"
)

func main() {
	dir := flag.String("dir", "grafana", "directory to write the dashboards to")
	flag.Parse()
	files, err := dashboards.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
