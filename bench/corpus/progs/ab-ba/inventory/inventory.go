// Package inventory reserves stock for orders. Placing an order locks the
// order book and then the stock; the restocker locks the stock and then
// the order book to fill back-orders. Under load, the order handlers and
// the restocker deadlock and every handler behind them stops (100).
package inventory

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "inventory", Class: corpus.ABBA, Leaks: 101,
		Doc: "inventory: orders lock book→stock, restocker stock→book; 100 order handlers and the restocker stop",
		Run: run,
	})
}

type Stock struct {
	mu    sync.Mutex
	units map[string]int
}

type OrderBook struct {
	mu         sync.Mutex
	placed     int
	backorders []string
}

type Shop struct {
	stock *Stock
	book  *OrderBook
}

func (s *Shop) Place(sku string) {
	s.book.mu.Lock() // want
	defer s.book.mu.Unlock()
	s.stock.mu.Lock() // want
	defer s.stock.mu.Unlock()
	if s.stock.units[sku] > 0 {
		s.stock.units[sku]--
		s.book.placed++
		return
	}
	s.book.backorders = append(s.book.backorders, sku)
}

func (s *Shop) Restock(sku string, n int) {
	s.stock.mu.Lock()
	defer s.stock.mu.Unlock()
	s.stock.units[sku] += n
	s.book.mu.Lock() // want
	defer s.book.mu.Unlock()
	kept := s.book.backorders[:0]
	for _, b := range s.book.backorders {
		if b == sku && s.stock.units[sku] > 0 {
			s.stock.units[sku]--
			continue
		}
		kept = append(kept, b)
	}
	s.book.backorders = kept
}

func run(ctx context.Context) {
	skus := []string{"lamp", "desk", "chair", "shelf"}
	s := &Shop{stock: &Stock{units: map[string]int{}}, book: &OrderBook{}}
	for range 100 {
		go func() {
			for ctx.Err() == nil {
				s.Place(skus[rand.IntN(len(skus))])
				time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
			}
		}()
	}
	go func() {
		for ctx.Err() == nil {
			s.Restock(skus[rand.IntN(len(skus))], 5)
			time.Sleep(5 * time.Millisecond)
		}
	}()
}
