package ring

import (
	"slices"
	"testing"
)

func TestRing(t *testing.T) {
	tests := []struct {
		name   string
		cap    int
		push   []int
		want   []int
		wantAt int // value at index 0
	}{
		{name: "empty", cap: 3, push: nil, want: nil},
		{name: "partial", cap: 3, push: []int{1, 2}, want: []int{1, 2}, wantAt: 1},
		{name: "full", cap: 3, push: []int{1, 2, 3}, want: []int{1, 2, 3}, wantAt: 1},
		{name: "wrapped", cap: 3, push: []int{1, 2, 3, 4, 5}, want: []int{3, 4, 5}, wantAt: 3},
		{name: "zero capacity holds one", cap: 0, push: []int{1, 2}, want: []int{2}, wantAt: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New[int](tt.cap)
			for _, v := range tt.push {
				r.Push(v)
			}
			if got := r.Slice(0); !slices.Equal(got, tt.want) {
				t.Errorf("Slice(0) = %v, want %v", got, tt.want)
			}
			if r.Len() != len(tt.want) {
				t.Errorf("Len() = %d, want %d", r.Len(), len(tt.want))
			}
			if len(tt.want) > 0 {
				if got := r.At(0); got != tt.wantAt {
					t.Errorf("At(0) = %d, want %d", got, tt.wantAt)
				}
				if got := r.Slice(len(tt.want) - 1); !slices.Equal(got, tt.want[len(tt.want)-1:]) {
					t.Errorf("Slice(last) = %v, want %v", got, tt.want[len(tt.want)-1:])
				}
			}
		})
	}
}

func TestAtOutOfRangePanics(t *testing.T) {
	r := New[int](2)
	r.Push(1)
	defer func() {
		if recover() == nil {
			t.Error("At(1) on a ring of one value did not panic")
		}
	}()
	r.At(1)
}
