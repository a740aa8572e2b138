package dashboards

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/asyncmon/asyncmon/internal/testenv"
)

// rulesFile is the one rule file shipped to users.
const rulesFile = "prometheus/asyncmon-rules.yml"

// ruleFile is the shape of a Prometheus rule file, as far as the tests
// look into it.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Name is the alert or the recorded series name.
func (r rule) Name() string {
	if r.Alert != "" {
		return r.Alert
	}
	return r.Record
}

func loadRules(t testing.TB, path string) ruleFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(f.Groups) == 0 {
		t.Fatalf("%s: no rule groups", path)
	}
	return f
}

func (f ruleFile) alerts() []rule {
	var out []rule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

func (f ruleFile) all() []rule {
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

func runPromtool(t *testing.T, args ...string) string {
	t.Helper()
	promtool := testenv.LookPath(t, "promtool")
	out, err := exec.Command(promtool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestRulesCheck(t *testing.T) {
	out := runPromtool(t, "check", "rules", "--lint=all", "--lint-fatal", rulesFile)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules printed no SUCCESS:\n%s", out)
	}
}

func ruleTestFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("prometheus/tests/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule unit tests in prometheus/tests (%v)", err)
	}
	return files
}

func TestRulesUnit(t *testing.T) {
	files := ruleTestFiles(t)
	out := runPromtool(t, append([]string{"test", "rules"}, files...)...)
	if got := strings.Count(out, "SUCCESS"); got != len(files) {
		t.Errorf("promtool test rules: %d successes for %d files:\n%s", got, len(files), out)
	}
}

var (
	alertName = regexp.MustCompile(`^Asyncmon[A-Z][A-Za-z0-9]*$`)
	// level:metric:operations, the Prometheus naming convention for
	// recording rules.
	recordName = regexp.MustCompile(`^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$`)
)

func TestRulesConventions(t *testing.T) {
	f := loadRules(t, rulesFile)
	seen := map[string]bool{}
	for _, r := range f.all() {
		if seen[r.Name()] {
			t.Errorf("%s: defined twice", r.Name())
		}
		seen[r.Name()] = true
		if r.Record != "" {
			if !recordName.MatchString(r.Record) {
				t.Errorf("recording rule %q: want level:metric:operations", r.Record)
			}
			continue
		}
		if !alertName.MatchString(r.Alert) {
			t.Errorf("alert %q: want CamelCase starting with Asyncmon", r.Alert)
		}
		if s := r.Labels["severity"]; !slices.Contains([]string{"critical", "warning", "info"}, s) {
			t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		// Every alert but a one-off event (a panic) waits before firing,
		// so one bad scrape or one short finding does not page anyone.
		if r.For == "" && r.Alert != "AsyncmonAgentPanics" {
			t.Errorf("%s: no for: duration", r.Alert)
		}
	}
}

// ruleTests is the part of a promtool test file that says which alerts
// are expected when.
type ruleTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestRulesCovered checks that every alert has promtool cases where it
// fires and where it does not.
func TestRulesCovered(t *testing.T) {
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, file := range ruleTestFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var rt ruleTests
		if err := yaml.Unmarshal(b, &rt); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, tc := range rt.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					silent[a.Alertname] = true
				}
			}
		}
	}
	alerts := loadRules(t, rulesFile).alerts()
	if len(alerts) == 0 {
		t.Fatal("no alerts")
	}
	for _, r := range alerts {
		if !fires[r.Alert] {
			t.Errorf("%s: no promtool case where it fires", r.Alert)
		}
		if !silent[r.Alert] {
			t.Errorf("%s: no promtool case where it stays silent", r.Alert)
		}
	}
}
