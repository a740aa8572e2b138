package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/collectors/goroutines"
)

func main() {
	var a, b sync.Mutex
	go func() { a.Lock(); time.Sleep(100 * time.Millisecond); b.Lock() }()
	go func() { b.Lock(); time.Sleep(100 * time.Millisecond); a.Lock() }()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { wg.Wait() }()
	c := sync.NewCond(&sync.Mutex{})
	go func() { c.L.Lock(); c.Wait() }()
	ch := make(chan int)
	go func() { ch <- 1 }()
	go func() { <-ch; <-ch }()
	time.Sleep(300 * time.Millisecond)
	col := goroutines.NewCollector(goroutines.Options{MaxPause: -1})
	t, err := col.Refresh(context.Background())
	fmt.Println(err)
	for _, g := range t.Groups {
		fmt.Println(g.Count, g.WaitReason, g.Site().Site(), g.Start.Func)
	}
	if len(os.Args) > 1 {
		pprof.Lookup("goroutine").WriteTo(os.Stdout, 1)
	}
}
