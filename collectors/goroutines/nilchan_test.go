package goroutines

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/asyncmon/asyncmon/model"
)

// nilChanHelperEnv makes the test binary run nilChanHelper instead of the
// test: goroutines blocked on a nil channel can never be released, so
// they block in a child process that exits.
const nilChanHelperEnv = "ASYNCMON_NILCHAN_HELPER"

func recvNil(c chan int)  { <-c }
func sendNil(c chan int)  { c <- 1 }
func recvReal(c chan int) { <-c }
func sendReal(c chan int) { c <- 1 }

// nilChanHelper blocks goroutines on nil and real channels, builds the
// group table from the concurrent profile, and prints "func wait" lines.
func nilChanHelper() {
	var nilCh chan int
	started := make(chan struct{}, 4)
	for _, f := range []func(chan int){recvNil, sendNil} {
		go func() { started <- struct{}{}; f(nilCh) }()
	}
	for _, f := range []func(chan int){recvReal, sendReal} {
		real := make(chan int) // its own, so that the two never meet
		go func() { started <- struct{}{}; f(real) }()
	}
	for range 4 {
		<-started
	}
	c := NewCollector(Options{MaxPause: -1}) // the concurrent profile only
	for range 50 {
		t, err := c.Refresh(context.Background())
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		var lines []string
		for _, g := range t.Groups {
			if len(g.TopFrames) > 0 && (strings.HasSuffix(g.TopFrames[0].Func, "Nil") || strings.HasSuffix(g.TopFrames[0].Func, "Real")) {
				lines = append(lines, g.TopFrames[0].ShortFunc()+"\t"+g.WaitReason)
			}
		}
		if len(lines) == 4 {
			fmt.Println(strings.Join(lines, "\n"))
			os.Exit(0)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("error: the four goroutines never parked")
	os.Exit(1)
}

// TestNilChanWaitFromProfile checks that the concurrent goroutine
// profile, which prints no wait reason, tells a goroutine parked on a nil
// channel (receive or send) from one
// parked on a real channel.
func TestNilChanWaitFromProfile(t *testing.T) {
	if os.Getenv(nilChanHelperEnv) != "" {
		nilChanHelper()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNilChanWaitFromProfile$")
	cmd.Env = append(os.Environ(), nilChanHelperEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out.String())
	}
	got := map[string]string{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if fn, wait, ok := strings.Cut(sc.Text(), "\t"); ok {
			got[fn] = wait
		}
	}
	want := map[string]string{
		"goroutines.recvNil":  model.WaitNilChan,
		"goroutines.sendNil":  model.WaitNilChan,
		"goroutines.recvReal": model.WaitChanRecv,
		"goroutines.sendReal": model.WaitChanSend,
	}
	for fn, w := range want {
		if got[fn] != w {
			t.Errorf("%s: wait %q, want %q (helper printed:\n%s)", fn, got[fn], w, out.String())
		}
	}
}
