package connleak

import (
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

var connT0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func connSite(fn string, line int) model.Frame {
	return model.Frame{Func: "example.com/svc." + fn, File: "/src/svc/" + fn + ".go", Line: line}
}

// connWindow builds a window of n snapshots one second apart; fill sets up
// snapshot i.
func connWindow(n int, fill func(i int, s *model.Snapshot)) model.Window {
	var w model.Window
	for i := range n {
		s := &model.Snapshot{Seq: uint64(i), Time: connT0.Add(time.Duration(i) * time.Second)}
		s.Connections.OpenByKind = map[string]int{}
		s.Connections.LeakedTotal = map[string]int64{}
		fill(i, s)
		w.Snapshots = append(w.Snapshots, s)
	}
	return w
}

func TestConnLeakDetect(t *testing.T) {
	fetch := connSite("fetch", 42)
	load := connSite("load", 7)
	healthy := connSite("serve", 3)
	tests := []struct {
		name string
		cfg  Config
		w    model.Window
		// want maps finding IDs to their subject and level; no other
		// finding may be reported.
		want map[string]struct {
			subject string
			level   model.Level
		}
	}{
		{
			name: "empty window",
			w:    model.Window{},
		},
		{
			name: "healthy: short-lived bodies and idle keep-alive connections",
			w: connWindow(10, func(i int, s *model.Snapshot) {
				s.Connections.OpenByKind[model.ConnClient] = 8
				for range 8 {
					s.Connections.Open = append(s.Connections.Open, model.Conn{Kind: model.ConnClient, OpenSite: healthy, IdleSeconds: 60, AgeSeconds: 600})
				}
				s.Connections.Open = append(s.Connections.Open, model.Conn{Kind: model.ConnHTTPBody, OpenSite: fetch, IdleSeconds: 0.2})
				s.Connections.Pools = []model.Pool{{Name: "db", MaxOpen: 10, InUse: 3, WaitCountTotal: 5}}
				s.Process.FDs, s.Process.FDLimit = 100, 1024
			}),
		},
		{
			name: "definite leaks, one finding per kind and site",
			w: connWindow(3, func(i int, s *model.Snapshot) {
				s.Connections.Leaks = []model.Conn{
					{ID: 1, Kind: model.ConnHTTPBody, OpenSite: fetch, Leaked: true, LeakedAt: s.Time, SiteLeaksTotal: 3},
					{ID: 2, Kind: model.ConnSQLRows, OpenSite: load, Pool: "db", Leaked: true, LeakedAt: s.Time, SiteLeaksTotal: 150},
				}
			}),
			want: map[string]struct {
				subject string
				level   model.Level
			}{
				"conn-leak:leak:http-body:/src/svc/fetch.go:42": {"/src/svc/fetch.go:42", model.LevelWarning},
				"conn-leak:leak:sql-rows:/src/svc/load.go:7":    {"/src/svc/load.go:7", model.LevelCritical},
			},
		},
		{
			name: "definite leaks long ago no longer hold",
			w: connWindow(3, func(i int, s *model.Snapshot) {
				s.Connections.Leaks = []model.Conn{
					{ID: 1, Kind: model.ConnHTTPBody, OpenSite: fetch, Leaked: true, LeakedAt: s.Time.Add(-10 * time.Minute), SiteLeaksTotal: 3},
				}
			}),
		},
		{
			name: "exhausted pool names the site holding it",
			w: connWindow(5, func(i int, s *model.Snapshot) {
				s.Connections.Pools = []model.Pool{{Name: "db", MaxOpen: 4, InUse: 4, Open: 4, WaitCountTotal: int64(10 * i)}}
				for range 4 {
					s.Connections.Open = append(s.Connections.Open, model.Conn{Kind: model.ConnSQLRows, Pool: "db", OpenSite: load, IdleSeconds: float64(i)})
				}
			}),
			want: map[string]struct {
				subject string
				level   model.Level
			}{"conn-leak:pool:db": {"/src/svc/load.go:7", model.LevelCritical}},
		},
		{
			name: "full pool without waiters is busy, not exhausted",
			w: connWindow(5, func(i int, s *model.Snapshot) {
				s.Connections.Pools = []model.Pool{{Name: "db", MaxOpen: 4, InUse: 4, WaitCountTotal: 7}}
			}),
		},
		{
			name: "bodies held open and idle",
			w: connWindow(2, func(i int, s *model.Snapshot) {
				s.Connections.Open = []model.Conn{
					{Kind: model.ConnHTTPBody, OpenSite: fetch, IdleSeconds: 45, AgeSeconds: 46},
					{Kind: model.ConnHTTPBody, OpenSite: fetch, IdleSeconds: 31, AgeSeconds: 31},
					{Kind: model.ConnHTTPBody, OpenSite: healthy, IdleSeconds: 1},
				}
			}),
			want: map[string]struct {
				subject string
				level   model.Level
			}{"conn-leak:held:http-body:/src/svc/fetch.go:42": {"/src/svc/fetch.go:42", model.LevelWarning}},
		},
		{
			name: "connection idle far longer than its peers",
			w: connWindow(2, func(i int, s *model.Snapshot) {
				for range 6 {
					s.Connections.Open = append(s.Connections.Open, model.Conn{Kind: model.ConnServer, OpenSite: healthy, IdleSeconds: 5})
				}
				s.Connections.Open = append(s.Connections.Open, model.Conn{Kind: model.ConnServer, OpenSite: load, IdleSeconds: 3600})
			}),
			want: map[string]struct {
				subject string
				level   model.Level
			}{"conn-leak:idle:server": {"/src/svc/load.go:7", model.LevelInfo}},
		},
		{
			name: "open count growing for two minutes",
			w: connWindow(130, func(i int, s *model.Snapshot) {
				s.Connections.OpenByKind[model.ConnClient] = 10 + i
				s.Connections.Open = []model.Conn{{Kind: model.ConnClient, OpenSite: fetch}}
			}),
			want: map[string]struct {
				subject string
				level   model.Level
			}{"conn-leak:growth:client": {"/src/svc/fetch.go:42", model.LevelWarning}},
		},
		{
			// A stalled handler makes clients pile up connections within
			// seconds: a symptom of the stall, not a leak.
			name: "short pile-up",
			w: connWindow(10, func(i int, s *model.Snapshot) {
				s.Connections.OpenByKind[model.ConnServer] = 10 + 20*i
				s.Connections.Open = []model.Conn{{Kind: model.ConnServer, OpenSite: healthy}}
			}),
		},
		{
			name: "burst that stops within the window",
			w: connWindow(130, func(i int, s *model.Snapshot) {
				s.Connections.OpenByKind[model.ConnClient] = 10 + min(i, 70)
			}),
		},
		{
			name: "growth dialled inside the standard library names the user's site",
			w: connWindow(130, func(i int, s *model.Snapshot) {
				s.Connections.OpenByKind[model.ConnClient] = 10 + i
				dial := model.Frame{Func: "net/http.(*Transport).dialConn", File: "/go/src/net/http/transport.go", Line: 1307}
				s.Connections.Open = []model.Conn{
					{Kind: model.ConnClient, OpenSite: dial}, {Kind: model.ConnClient, OpenSite: dial},
					{Kind: model.ConnClient, OpenSite: fetch},
				}
			}),
			want: map[string]struct {
				subject string
				level   model.Level
			}{"conn-leak:growth:client": {"/src/svc/fetch.go:42", model.LevelWarning}},
		},
		{
			name: "growth opened only inside the standard library",
			w: connWindow(130, func(i int, s *model.Snapshot) {
				s.Connections.OpenByKind[model.ConnClient] = 10 + i
				dial := model.Frame{Func: "net/http.(*Transport).dialConn", File: "/go/src/net/http/transport.go", Line: 1307}
				s.Connections.Open = []model.Conn{{Kind: model.ConnClient, OpenSite: dial}}
			}),
			want: map[string]struct {
				subject string
				level   model.Level
			}{"conn-leak:growth:client": {"process", model.LevelWarning}},
		},
		{
			name: "start-up ramp that levels off",
			w: connWindow(10, func(i int, s *model.Snapshot) {
				s.Connections.OpenByKind[model.ConnClient] = min(10+40*i, 100)
			}),
		},
		{
			name: "parked read loops rising",
			w: connWindow(3, func(i int, s *model.Snapshot) {
				s.Groups = []model.GoroutineGroup{{
					Key: "readloop", WaitReason: model.WaitSelect, Count: 40 + 20*i,
					TopFrames: []model.Frame{{Func: connReadLoopFunc}},
				}}
			}),
			want: map[string]struct {
				subject string
				level   model.Level
			}{"conn-leak:readloops": {connReadLoopFunc, model.LevelWarning}},
		},
		{
			name: "file descriptors near the limit",
			w: connWindow(1, func(i int, s *model.Snapshot) {
				s.Process.FDs, s.Process.FDLimit = 1000, 1024
			}),
			want: map[string]struct {
				subject string
				level   model.Level
			}{"conn-leak:fds": {"process", model.LevelCritical}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := New(tt.cfg).Detect(tt.w)
			seen := map[string]bool{}
			for _, f := range got {
				seen[f.ID] = true
				want, ok := tt.want[f.ID]
				if !ok {
					t.Errorf("unexpected finding %s: %s", f.ID, f.Summary)
					continue
				}
				if f.Subject != want.subject || f.Level != want.level {
					t.Errorf("%s: subject %q level %s, want %q %s", f.ID, f.Subject, f.Level, want.subject, want.level)
				}
				if wantCause, _, _ := strings.Cut(strings.TrimPrefix(f.ID, Name+":"), ":"); f.Cause != wantCause {
					t.Errorf("%s: cause %q, want %q", f.ID, f.Cause, wantCause)
				}
				if f.Detector != Name || f.State != "" || f.Title == "" || f.Summary == "" || f.LastSeen.IsZero() {
					t.Errorf("%s: malformed finding %+v", f.ID, f)
				}
				if f.Subject != "process" && f.Subject != connReadLoopFunc && !strings.Contains(f.Summary, ".go:") {
					t.Errorf("%s: summary names no file:line: %s", f.ID, f.Summary)
				}
			}
			for id := range tt.want {
				if !seen[id] {
					t.Errorf("missing finding %s", id)
				}
			}
		})
	}
}
