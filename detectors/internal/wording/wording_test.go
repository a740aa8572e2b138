package wording

import "testing"

func TestUpperFirst(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"lowercase word", "handlers panic", "Handlers panic"},
		{"already capital", "HTTP bodies", "HTTP bodies"},
		{"empty", "", ""},
		{"not a letter", "3 conns", "3 conns"},
		{"non-ASCII", "élan", "élan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UpperFirst(tc.in); got != tc.want {
				t.Errorf("UpperFirst(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
