package detectors

import (
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

func TestStuckRequests(t *testing.T) {
	handler := []model.Frame{
		{Func: "runtime.gopark"},
		{Func: "sync.(*Mutex).Lock", File: "/go/src/sync/mutex.go", Line: 90},
		{Func: "example.com/svc.(*Cache).Get", File: "/src/svc/cache.go", Line: 31},
		{Func: "net/http.HandlerFunc.ServeHTTP", File: "/go/src/net/http/server.go", Line: 2200},
	}
	req := func(age float64, stack []model.Frame) model.Request {
		return model.Request{Method: "GET", Path: "/item", Started: t0.Add(-time.Duration(age * float64(time.Second))), AgeSeconds: age, GoroutineID: 77, Stack: stack}
	}
	tests := []struct {
		name      string
		reqs      []model.Request
		wantSubj  []string
		wantLevel model.Level
	}{
		{name: "none", reqs: nil},
		{name: "young", reqs: []model.Request{req(5, nil), req(29, handler)}},
		{name: "one stuck", reqs: []model.Request{req(5, nil), req(45, handler)}, wantSubj: []string{"/src/svc/cache.go:31"}, wantLevel: model.LevelWarning},
		{name: "no stack", reqs: []model.Request{req(45, nil)}, wantSubj: []string{"GET /item"}, wantLevel: model.LevelWarning},
		{name: "many at one site", reqs: []model.Request{req(31, handler), req(32, handler), req(33, handler), req(34, handler), req(35, handler)}, wantSubj: []string{"/src/svc/cache.go:31"}, wantLevel: model.LevelCritical},
	}
	d := NewStuckRequests(StuckConfig{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := model.Window{Snapshots: []*model.Snapshot{{Time: t0, Requests: tc.reqs}}}
			fs := d.Detect(w)
			if len(fs) != len(tc.wantSubj) {
				t.Fatalf("got %d findings, want %d", len(fs), len(tc.wantSubj))
			}
			for i, f := range fs {
				if f.Subject != tc.wantSubj[i] || f.Level != tc.wantLevel {
					t.Errorf("got subject %q level %q, want %q %q", f.Subject, f.Level, tc.wantSubj[i], tc.wantLevel)
				}
			}
		})
	}
}
