package dashboards

//lint:file-ignore SA1019 the tests read the v1 dashboard model that dashboards.go writes

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// TestGeneratedUpToDate fails when grafana/*.json differs from what the
// Go code generates.
func TestGeneratedUpToDate(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("grafana", name))
		if err != nil {
			t.Errorf("%v (run go generate ./... in dashboards/)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("grafana/%s is stale: run go generate ./... in dashboards/", name)
		}
	}
	onDisk, _ := filepath.Glob("grafana/*.json")
	for _, p := range onDisk {
		if _, ok := files[filepath.Base(p)]; !ok {
			t.Errorf("%s is not generated any more: delete it", p)
		}
	}
}

// grafanaDashboard is the part of a dashboard's JSON the lint rules read.
type grafanaDashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string         `json:"name"`
			Type       string         `json:"type"`
			Query      any            `json:"query"`
			Datasource *datasourceRef `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name       string         `json:"name"`
			Datasource *datasourceRef `json:"datasource"`
			Expr       string         `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID          *int           `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Datasource  *datasourceRef `json:"datasource"`
	GridPos     struct {
		X, Y, W, H int
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Options struct {
		Footer *struct {
			Reducer []string `json:"reducer"`
		} `json:"footer"`
	} `json:"options"`
	Panels []panel `json:"panels"` // of a collapsed row
}

// loadDashboards reads every committed dashboard.
func loadDashboards(t testing.TB) map[string]grafanaDashboard {
	t.Helper()
	paths, err := filepath.Glob("grafana/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dashboards in grafana/ (%v)", err)
	}
	out := map[string]grafanaDashboard{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d grafanaDashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[filepath.Base(p)] = d
	}
	return out
}

// panels returns the dashboard's panels, rows' children included.
func (d grafanaDashboard) panels() []panel {
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// TestDashboardsStrictUnmarshal reads each dashboard back with the SDK's
// strict decoder, which rejects unknown fields and wrong types.
func TestDashboardsStrictUnmarshal(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	paths, _ := filepath.Glob("grafana/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard.Dashboard
		err = d.UnmarshalJSONStrict(b)
		// The SDK returns a nil cog.BuildErrors in a non-nil error on
		// success: only a non-empty list is a failure.
		var be cog.BuildErrors
		if errors.As(err, &be) && len(be) == 0 {
			err = nil
		}
		if err != nil {
			t.Errorf("%s: strict unmarshal: %v", p, err)
		}
	}
}

var uidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,40}$`)

// TestDashboardsImportable checks what Grafana needs to import the JSON
// as it is: schema version, uid, title, the variables, and a grid that no
// panel overflows.
func TestDashboardsImportable(t *testing.T) {
	uids := map[string]bool{}
	for name, d := range loadDashboards(t) {
		t.Run(name, func(t *testing.T) {
			if d.SchemaVersion < 36 {
				t.Errorf("schemaVersion %d, want >= 36 (datasource references by uid)", d.SchemaVersion)
			}
			if !uidPattern.MatchString(d.UID) {
				t.Errorf("uid %q: want 8-40 of [A-Za-z0-9_-]", d.UID)
			}
			if uids[d.UID] {
				t.Errorf("uid %q used twice", d.UID)
			}
			uids[d.UID] = true
			if !strings.HasPrefix(d.Title, "asyncmon / ") {
				t.Errorf("title %q: want \"asyncmon / ...\"", d.Title)
			}
			vars := map[string]string{}
			for _, v := range d.Templating.List {
				vars[v.Name] = v.Type
				if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != "${datasource}") {
					t.Errorf("variable %s: datasource %+v, want ${datasource}", v.Name, v.Datasource)
				}
			}
			for name, typ := range map[string]string{"datasource": "datasource", "job": "query", "instance": "query"} {
				if vars[name] != typ {
					t.Errorf("variable %s: type %q, want %q", name, vars[name], typ)
				}
			}
			if len(d.Annotations.List) == 0 {
				t.Error("no annotations (findings)")
			}
			ids := map[int]bool{}
			type cell struct{ x, y int }
			used := map[cell]string{}
			for _, p := range d.panels() {
				g := p.GridPos
				if p.ID == nil || ids[*p.ID] {
					t.Errorf("panel %q: id missing or not unique", p.Title)
				} else {
					ids[*p.ID] = true
				}
				if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
					t.Errorf("panel %q: gridPos %+v overflows the 24-column grid", p.Title, g)
					continue
				}
				for x := g.X; x < g.X+g.W; x++ {
					for y := g.Y; y < g.Y+g.H; y++ {
						if other, ok := used[cell{x, y}]; ok {
							t.Errorf("panel %q overlaps %q at (%d,%d)", p.Title, other, x, y)
						}
						used[cell{x, y}] = p.Title
					}
				}
			}
		})
	}
}

// grafanaUnits are Grafana unit ids (as in its unit picker) that fit
// asyncmon's metrics. A unit outside the list is usually a typo Grafana
// would silently show as a plain number.
var grafanaUnits = map[string]bool{
	"short": true, "none": true, "s": true, "ms": true, "µs": true,
	"ops": true, "percentunit": true, "percent": true, "bytes": true,
}

var rateWindow = regexp.MustCompile(`\brate\([^\[]*\[([^\]]*)\]`)

// TestDashboardsLint re-implements the useful rules of Grafana's
// dashboard linter: every panel has a title, a description, a unit and
// the datasource variable; every query reads the datasource variable, is
// scoped by job and instance and rates over $__rate_interval.
func TestDashboardsLint(t *testing.T) {
	for name, d := range loadDashboards(t) {
		t.Run(name, func(t *testing.T) {
			var exprs []string
			for _, a := range d.Annotations.List {
				if a.Datasource == nil || a.Datasource.UID != "${datasource}" {
					t.Errorf("annotation %q: datasource %+v, want ${datasource}", a.Name, a.Datasource)
				}
				exprs = append(exprs, a.Expr)
			}
			for _, p := range d.panels() {
				if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
					t.Errorf("panel %q: datasource %+v, want prometheus ${datasource}", p.Title, p.Datasource)
				}
				if p.Type == "row" {
					continue
				}
				if p.Title == "" {
					t.Errorf("panel %d: no title", *p.ID)
				}
				if p.Description == "" {
					t.Errorf("panel %q: no description", p.Title)
				}
				if u := p.FieldConfig.Defaults.Unit; !grafanaUnits[u] {
					t.Errorf("panel %q: unit %q is not one of Grafana's unit ids we use (%v)", p.Title, u, grafanaUnits)
				}
				if p.Type == "table" && (p.Options.Footer == nil || p.Options.Footer.Reducer == nil) {
					t.Errorf("panel %q: table without an explicit footer reducer", p.Title)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q: no queries", p.Title)
				}
				refs := map[string]bool{}
				for _, tg := range p.Targets {
					if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
						t.Errorf("panel %q query %s: datasource %+v, want ${datasource}", p.Title, tg.RefID, tg.Datasource)
					}
					if tg.RefID == "" || refs[tg.RefID] {
						t.Errorf("panel %q: refId %q missing or repeated", p.Title, tg.RefID)
					}
					refs[tg.RefID] = true
					exprs = append(exprs, tg.Expr)
				}
			}
			for _, e := range exprs {
				lintExpr(t, e)
			}
		})
	}
}

func lintExpr(t *testing.T, expr string) {
	t.Helper()
	sels, err := selectors(expr)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if len(sels) == 0 {
		t.Errorf("%q: reads no metric", expr)
	}
	for _, s := range sels {
		ms := strings.Split(s.Matchers, ", ")
		if !slices.Contains(ms, `job=~"$job"`) || !slices.Contains(ms, `instance=~"$instance"`) {
			t.Errorf("%q: selector %s is not scoped by job=~\"$job\" and instance=~\"$instance\"", expr, s)
		}
	}
	for _, m := range rateWindow.FindAllStringSubmatch(expr, -1) {
		if m[1] != "$__rate_interval" {
			t.Errorf("%q: rate over [%s], want [$__rate_interval]", expr, m[1])
		}
	}
}
