package api

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "30s", want: now.Add(-30 * time.Second)},
		{in: "2026-01-02T03:00:00Z", want: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)},
		{in: "0s", want: now},
		{in: "-1m", wantErr: true},
		{in: "soon", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !got.Equal(tt.want)) {
			t.Errorf("parseSince(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
