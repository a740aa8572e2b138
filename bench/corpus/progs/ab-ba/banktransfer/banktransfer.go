// Package banktransfer moves money between accounts, locking the source
// account and then the destination: two opposite transfers at the same
// time lock A then B and B then A. Two goroutines deadlock first; the
// tellers touching those accounts then queue behind them.
package banktransfer

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "banktransfer", Class: corpus.ABBA, Leaks: 16, Short: true,
		Doc: "bank: transfers lock source then destination; opposite transfers deadlock and 16 tellers stop",
		Run: run,
	})
}

type Account struct {
	mu      sync.Mutex
	id      int
	balance int64
}

type Bank struct {
	accounts []*Account
}

func (b *Bank) Transfer(from, to int, amount int64) bool {
	src, dst := b.accounts[from], b.accounts[to]
	src.mu.Lock() // want
	defer src.mu.Unlock()
	if src.balance < amount {
		return false
	}
	time.Sleep(time.Millisecond) // the fraud check
	dst.mu.Lock()                // want
	defer dst.mu.Unlock()
	src.balance -= amount
	dst.balance += amount
	return true
}

func run(ctx context.Context) {
	b := &Bank{}
	for i := range 6 {
		b.accounts = append(b.accounts, &Account{id: i, balance: 1_000_000})
	}
	for range 16 {
		go func() {
			for ctx.Err() == nil {
				from := rand.IntN(len(b.accounts))
				to := (from + 1 + rand.IntN(len(b.accounts)-1)) % len(b.accounts)
				b.Transfer(from, to, int64(rand.IntN(100)))
				time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
			}
		}()
	}
}
