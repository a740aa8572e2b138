// Command gen starts a known set of goroutines and prints a goroutine
// dump of itself, for the parser's golden tests. It is its own module
// (go 1.21) so that GOTOOLCHAIN=go1.2x.y runs it under older Go versions;
// see gen.sh.
//
//	gen debug2|debug1|panic|sigquit|leak
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"
)

type server struct {
	reqs chan int
	quit chan struct{}
}

func (s *server) loop() {
	for {
		select {
		case <-s.reqs:
		case <-s.quit:
			return
		}
	}
}

func recvWorker(ch chan int) { <-ch }

func sendWorker(ch chan int) { ch <- 1 }

func lockWorker(mu *sync.Mutex) {
	mu.Lock()
	mu.Unlock()
}

func genericWait[T any](ch chan T) T { return <-ch }

func deep(n int, ch chan int) int {
	if n == 0 {
		return <-ch
	}
	return deep(n-1, ch) + 1
}

func main() {
	mode := "debug2"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	block := make(chan int)
	for i := 0; i < 3; i++ {
		go recvWorker(block)
	}
	sendq := make(chan int)
	for i := 0; i < 2; i++ {
		go sendWorker(sendq)
	}
	var mu sync.Mutex
	mu.Lock()
	for i := 0; i < 2; i++ {
		go lockWorker(&mu)
	}
	var rw sync.RWMutex
	rw.Lock()
	go func() { rw.RLock() }()
	cond := sync.NewCond(&sync.Mutex{})
	go func() {
		cond.L.Lock()
		cond.Wait()
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { wg.Wait() }()
	s := &server{reqs: make(chan int), quit: make(chan struct{})}
	go s.loop()
	go func() { select {} }()
	go func() {
		var nilch chan int
		<-nilch
	}()
	go func() { time.Sleep(time.Hour) }()
	r, w, err := os.Pipe()
	if err == nil {
		defer w.Close()
		go func() {
			b := make([]byte, 1)
			r.Read(b)
		}()
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		go func() { ln.Accept() }()
	}
	go func() {
		runtime.LockOSThread()
		<-block
	}()
	go pprof.Do(context.Background(), pprof.Labels("worker", "pool", "shard", "7 \"q\""), func(context.Context) {
		<-block
	})
	go deep(120, block)
	go genericWait(make(chan string))
	if mode == "leak" {
		go func() {
			ch := make(chan int) // unreachable once this goroutine parks
			<-ch
		}()
	}
	time.Sleep(300 * time.Millisecond)
	runtime.GC()
	switch mode {
	case "debug2":
		pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
	case "debug1":
		pprof.Lookup("goroutine").WriteTo(os.Stdout, 1)
	case "leak":
		p := pprof.Lookup("goroutineleak")
		if p == nil {
			fmt.Fprintln(os.Stderr, "no goroutineleak profile")
			os.Exit(1)
		}
		p.WriteTo(os.Stdout, 2)
	case "panic":
		defer func() {
			r := recover()
			panic(fmt.Sprint("again: ", r))
		}()
		panic("boom")
	case "sigquit":
		syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		time.Sleep(10 * time.Second)
	}
}
