// Package chatrooms is a chat server: joining locks the user and then the
// room; broadcasting locks the room and then each member. A join racing a
// broadcast deadlocks, and the connections of that room stop with them.
package chatrooms

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "chatrooms", Class: corpus.ABBA, Leaks: 30, Reachable: "global server",
		Doc: "chat: Join locks user→room, Broadcast room→members; 30 connection goroutines stop",
		Run: run,
	})
}

type User struct {
	mu    sync.Mutex
	name  string
	rooms []*Room
	inbox []string
}

type Room struct {
	mu      sync.Mutex
	name    string
	members []*User
}

func (u *User) Join(r *Room) {
	u.mu.Lock() // want
	defer u.mu.Unlock()
	u.rooms = append(u.rooms, r)
	r.mu.Lock() // want
	r.members = append(r.members, u)
	r.mu.Unlock()
}

func (r *Room) Broadcast(msg string) {
	r.mu.Lock() // want
	defer r.mu.Unlock()
	for _, m := range r.members {
		m.mu.Lock() // want
		m.inbox = append(m.inbox[max(0, len(m.inbox)-100):], msg)
		m.mu.Unlock()
	}
}

// server is global: its rooms and users stay reachable.
var server struct {
	rooms []*Room
	users []*User
}

func run(ctx context.Context) {
	for i := range 3 {
		server.rooms = append(server.rooms, &Room{name: fmt.Sprint("room-", i)})
	}
	for i := range 30 {
		u := &User{name: fmt.Sprint("user-", i)}
		server.users = append(server.users, u)
		go func() {
			for n := 0; ctx.Err() == nil; n++ {
				r := server.rooms[rand.IntN(len(server.rooms))]
				if n%5 == 0 {
					u.Join(r)
				} else {
					r.Broadcast(u.name + ": hi")
				}
				time.Sleep(time.Duration(rand.IntN(10)) * time.Millisecond)
			}
		}()
	}
}
