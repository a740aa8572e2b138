package dashboards

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// panelTitles returns the titles of every panel that is not a row, per
// dashboard title.
func panelTitles(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range loadDashboards(t) {
		for _, p := range d.panels() {
			if p.Type != "row" {
				out[d.Title] = append(out[d.Title], p.Title)
			}
		}
	}
	return out
}

// TestGrafanaDocDescribesEveryPanel checks that docs/grafana.md has a
// "- **Title**:" entry for every panel, under its dashboard's heading.
func TestGrafanaDocDescribesEveryPanel(t *testing.T) {
	b, err := os.ReadFile("../docs/grafana.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for dash, titles := range panelTitles(t) {
		start := strings.Index(doc, "\n### "+dash+"\n")
		if start < 0 {
			t.Errorf("docs/grafana.md has no \"### %s\" section", dash)
			continue
		}
		section := doc[start+1:]
		if end := strings.Index(section[4:], "\n#"); end >= 0 {
			section = section[:end+4]
		}
		for _, title := range titles {
			if !strings.Contains(section, "- **"+title+"**:") {
				t.Errorf("docs/grafana.md, %s: no \"- **%s**:\" entry describing the panel", dash, title)
			}
		}
	}
}

// italic matches *text* that is not part of **bold**.
var italic = regexp.MustCompile(`(?:^|[^*])\*([A-Z][^*\n]+)\*(?:[^*]|$)`)

// TestRunbooksNamePanelsThatExist checks that every panel a runbook
// points to (written in italics) is a panel of the dashboards.
func TestRunbooksNamePanelsThatExist(t *testing.T) {
	known := map[string]bool{}
	for _, titles := range panelTitles(t) {
		for _, title := range titles {
			known[title] = true
		}
	}
	pages, err := filepath.Glob("../docs/runbooks/*.md")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no runbooks (%v)", err)
	}
	n := 0
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range italic.FindAllStringSubmatch(string(b), -1) {
			n++
			if !known[m[1]] {
				t.Errorf("%s names the panel %q, which no dashboard has", filepath.Base(p), m[1])
			}
		}
	}
	if n == 0 {
		t.Error("the runbooks name no panel at all")
	}
}
