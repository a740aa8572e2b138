package findings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// TestConfigJSON checks the one JSON unit rule (float seconds named
// *_seconds) on Config and Rule, and that they survive a round trip,
// "none" (a negative duration) included.
func TestConfigJSON(t *testing.T) {
	want := Config{
		Rules: map[string]Rule{
			"panic":      {For: -1, Clear: time.Minute, Cooldown: 5 * time.Minute},
			"starvation": {For: 1500 * time.Millisecond, Silence: true, MinLevel: model.LevelCritical},
		},
		KeepResolved: 2 * time.Hour,
		MaxResolved:  7,
		MaxActive:    9,
	}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"keep_resolved_seconds":7200`, `"for_seconds":1.5`, `"clear_seconds":60`,
		`"cooldown_seconds":300`, `"for_seconds":-1e-9`, `"min_level":"critical"`, `"silence":true`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
	if strings.Contains(string(b), "_ns") {
		t.Errorf("JSON %s has a duration in nanoseconds, want float seconds", b)
	}
	var got Config
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip: got %+v, want %+v", got, want)
	}
}

func TestRuleJSONRejectsBadInput(t *testing.T) {
	for _, in := range []string{`{"for_seconds":"10"}`, `{"clear_seconds":[]}`, `[]`} {
		var r Rule
		if err := json.Unmarshal([]byte(in), &r); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", in, r)
		}
	}
	var r Rule
	if err := json.Unmarshal([]byte(`{"for_seconds":1e300}`), &r); err != nil || r.For <= 0 {
		t.Errorf("Unmarshal of a huge for_seconds: %+v, %v; want it bounded, positive", r, err)
	}
}
