package report

import (
	"strings"
	"testing"

	"github.com/asyncmon/asyncmon/model"
)

func TestPrintConnections(t *testing.T) {
	tests := []struct {
		name string
		cs   model.Connections
		want []string // lines, trailing spaces trimmed
	}{
		{name: "nothing tracked", cs: model.Connections{}, want: nil},
		{
			name: "open, leaked and a pool",
			cs: model.Connections{
				OpenByKind:  map[string]int{model.ConnServer: 3, model.ConnSQL: 8, model.ConnClient: 0},
				LeakedTotal: map[string]int64{model.ConnHTTPBody: 86},
				Pools:       []model.Pool{{Name: "orders", MaxOpen: 8, InUse: 8, WaitCountTotal: 162, WaitSecondsTotal: 39.6}},
			},
			want: []string{
				"",
				"connections  open: server 3, sql 8",
				"             leaked: http-body 86",
				"pool orders  in use 8 of 8, idle 0, waits 162 (39.6s)",
			},
		},
		{
			name: "unlimited pool, nothing open",
			cs:   model.Connections{Pools: []model.Pool{{Name: "cache", InUse: 2, Idle: 1}}},
			want: []string{"", "pool cache  in use 2 of unlimited, idle 1, waits 0 (0)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := connections(&b, tt.cs); err != nil {
				t.Fatal(err)
			}
			var got []string
			if b.Len() > 0 {
				for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
					got = append(got, strings.TrimRight(l, " "))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
