// Package doubleadd fans notifications out to channels (mail, SMS,
// push). A refactoring moved wg.Add(1) into the helper that starts each
// sender but left the caller's Add in place: the count never reaches
// zero and the dispatcher waits for ever, once.
package doubleadd

import (
	"context"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "doubleadd", Class: corpus.MisusedWaitGroup, Leaks: 1,
		Doc: "notifier: wg.Add(1) both in the caller and in the helper; the dispatcher waits for ever (1 goroutine)",
		Run: run,
	})
}

type Notifier struct {
	wg   sync.WaitGroup
	sent map[string]int
	mu   sync.Mutex
}

func (n *Notifier) start(channel, msg string) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		time.Sleep(5 * time.Millisecond) // the provider's API
		n.mu.Lock()
		n.sent[channel]++
		n.mu.Unlock()
	}()
}

func (n *Notifier) Notify(msg string) {
	for _, ch := range []string{"mail", "sms", "push"} {
		n.wg.Add(1)
		n.start(ch, msg)
	}
	n.wg.Wait() // want
}

func run(ctx context.Context) {
	n := &Notifier{sent: map[string]int{}}
	n.Notify("your order shipped")
}
