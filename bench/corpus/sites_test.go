package corpus

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/asyncmon/asyncmon/model"
)

const fixture = `package shop

import "sync"

type Cart struct{ mu sync.Mutex }

func (c *Cart) Add() {
	c.mu.Lock() // want
}

func (c Cart) Peek() {
	go func() {
		<-make(chan int) // want: a closure
	}()
}

func checkout(ch chan int) {
	ch <- 1 // want
	// wanted: not a marker
}
`

func writeFixture(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "progs", "channel", "shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shop.go"), []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSites(t *testing.T) {
	dir := writeFixture(t)
	p := Program{Name: "shop", Class: Channel, Dir: dir, Pkg: "example.com/progs/channel/shop"}
	sites, err := Sites(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Site{
		{Func: "example.com/progs/channel/shop.(*Cart).Add", File: "progs/channel/shop/shop.go", Line: 8},
		{Func: "example.com/progs/channel/shop.Cart.Peek", Closure: true, File: "progs/channel/shop/shop.go", Line: 13},
		{Func: "example.com/progs/channel/shop.checkout", File: "progs/channel/shop/shop.go", Line: 18},
	}
	if len(sites) != len(want) {
		t.Fatalf("Sites = %v, want %v", sites, want)
	}
	for i := range want {
		if sites[i] != want[i] {
			t.Errorf("site %d = %+v, want %+v", i, sites[i], want[i])
		}
	}
	if got := sites[0].Short(); got != "shop.(*Cart).Add" {
		t.Errorf("Short = %q", got)
	}

	for _, tc := range []struct {
		site  int
		frame model.Frame
		match bool
	}{
		{0, model.Frame{Func: "example.com/progs/channel/shop.(*Cart).Add", File: "/src/elsewhere.go", Line: 99}, true},
		{0, model.Frame{Func: "x.y", File: "/root/bench/corpus/progs/channel/shop/shop.go", Line: 8}, true},
		{0, model.Frame{Func: "x.y", File: "/root/bench/corpus/progs/channel/shop/shop.go", Line: 9}, false},
		{0, model.Frame{Func: "x.y", File: "/root/bench/corpus/xprogs/channel/shop/shop.go", Line: 8}, false},
		{1, model.Frame{Func: "example.com/progs/channel/shop.Cart.Peek.func1"}, true},
		{2, model.Frame{Func: "example.com/progs/channel/shop.checkout.func1"}, false},
		{2, model.Frame{Func: "example.com/progs/channel/shop.checkoutAll"}, false},
	} {
		if got := sites[tc.site].MatchFrame(tc.frame); got != tc.match {
			t.Errorf("site %v MatchFrame(%+v) = %v, want %v", sites[tc.site], tc.frame, got, tc.match)
		}
	}
	if !sites[2].MatchText("blocked at /abs/progs/channel/shop/shop.go:18 for 30s") || !sites[2].MatchText("3 goroutines in shop.checkout") {
		t.Error("MatchText misses a file:line or a function name")
	}
	if sites[2].MatchText("blocked at progs/channel/shop/shop.go:181") {
		t.Error("MatchText takes line 181 for line 18")
	}

	p.Class = Healthy
	if _, err := Sites(p); err == nil {
		t.Error("a healthy program with markers is accepted")
	}
}
