package dashboards

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runbookBase is where the runbook_url annotations point: the runbooks
// as rendered by the repository host, on the main branch.
const runbookBase = "https://github.com/asyncmon/asyncmon/blob/main/docs/runbooks/"

// TestRunbookLinks checks that every alert links to a runbook page that
// exists, that every page belongs to an alert, and that the index lists
// every alert.
func TestRunbookLinks(t *testing.T) {
	const dir = "../docs/runbooks"
	linked := map[string]bool{}
	index, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range loadRules(t, rulesFile).alerts() {
		url := r.Annotations["runbook_url"]
		page, ok := strings.CutPrefix(url, runbookBase)
		if !ok || page == "" || strings.Contains(page, "/") {
			t.Errorf("%s: runbook_url %q is not a page under %s", r.Alert, url, runbookBase)
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("%s: runbook %s: %v", r.Alert, page, err)
			continue
		}
		if !strings.HasPrefix(string(b), "# "+r.Alert+"\n") {
			t.Errorf("%s: runbook %s does not start with the heading \"# %s\"", r.Alert, page, r.Alert)
		}
		linked[page] = true
		if !strings.Contains(string(index), "| "+r.Alert+" | "+r.Labels["severity"]+" | ["+page+"]("+page+") |") {
			t.Errorf("%s: docs/runbooks/README.md has no row for it (severity %s, page %s)", r.Alert, r.Labels["severity"], page)
		}
	}
	pages, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		name := filepath.Base(p)
		if name != "README.md" && !linked[name] {
			t.Errorf("docs/runbooks/%s: no alert links to it", name)
		}
	}
}
