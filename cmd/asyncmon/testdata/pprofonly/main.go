// Command pprofonly is a Go service that never embedded asyncmon: it
// serves only net/http/pprof, as many services do. The attach tests run
// it to check that asyncmon attach shows its goroutine groups.
package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // the only diagnostics this service has
	"os"
)

// parkedWorker waits for work that never comes.
func parkedWorker(jobs <-chan int) {
	for j := range jobs {
		_ = j
	}
}

func main() {
	jobs := make(chan int)
	for range 25 {
		go parkedWorker(jobs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	http.Serve(ln, nil)
}
