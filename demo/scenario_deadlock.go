package demo

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// deadlockScenario is an AB-BA deadlock between two subsystems.
//
// Placing an order (GET /api/order) locks the inventory, then records the
// order in the order book, which locks the order book. The nightly-style
// reconciliation (GET /api/reconcile) locks the order book, then counts
// stock, which locks the inventory. Each holds its first lock while it
// writes a journal entry (a few milliseconds of I/O), so under load the
// two soon meet in the middle: each holds the lock the other wants, and
// every later order and reconciliation piles up behind them for ever.
func deadlockScenario() Scenario {
	return Scenario{
		Name:        "deadlock",
		Description: "GET /api/order and GET /api/reconcile take two locks in opposite order (AB-BA)",
		Run: func(env *Env) error {
			inv := &inventory{stock: make(map[int]int)}
			book := &orderBook{}
			inv.book, book.inv = book, inv
			env.Mux.HandleFunc("GET /api/order", func(w http.ResponseWriter, r *http.Request) {
				item, _ := strconv.Atoi(r.URL.Query().Get("item"))
				ok := inv.reserve(item)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"item": item, "reserved": ok})
			})
			env.Mux.HandleFunc("GET /api/reconcile", func(w http.ResponseWriter, r *http.Request) {
				n := book.reconcile()
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"orders": n})
			})
			env.Load(20, "/api/order", func() string { return "item=" + strconv.Itoa(int(time.Now().UnixNano()%50)) })
			env.Load(5, "/api/reconcile", func() string { return "" })
			return nil
		},
	}
}

// inventory is the stock of every item.
type inventory struct {
	mu    sync.Mutex // guards stock
	stock map[int]int
	book  *orderBook
}

// reserve takes one unit of item and records the order: inventory lock,
// then order book lock.
func (inv *inventory) reserve(item int) bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.stock[item]--
	journalWrite()
	inv.book.record(item)
	return true
}

// count is the stock of all items together.
func (inv *inventory) count() int {
	inv.mu.Lock() // A after B: reconcile holds the order book lock
	defer inv.mu.Unlock()
	n := 0
	for _, s := range inv.stock {
		n += s
	}
	return n
}

// orderBook holds the orders placed.
type orderBook struct {
	mu     sync.Mutex // guards orders
	orders []int
	inv    *inventory
}

func (b *orderBook) record(item int) {
	b.mu.Lock() // B after A: reserve holds the inventory lock
	defer b.mu.Unlock()
	b.orders = append(b.orders, item)
}

// reconcile checks the order book against the inventory: order book lock,
// then inventory lock, the opposite order of reserve.
func (b *orderBook) reconcile() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	journalWrite()
	_ = b.inv.count()
	return len(b.orders)
}

// journalWrite stands for the few milliseconds of I/O of writing a
// journal entry while holding the lock.
func journalWrite() { time.Sleep(2 * time.Millisecond) }
