// Package sessionexpire is a session store whose Touch notices an expired
// session and deletes it through the public Delete, which locks again.
// Sessions expire only after a while, so the store works for a few
// seconds first.
package sessionexpire

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
		Name: "sessionexpire", Class: corpus.DoubleLock, Leaks: 12,
		Doc: "session store: Touch deletes an expired session via Delete, locking twice; 12 handlers stop",
		Run: run,
	})
}

type session struct {
	user    string
	expires time.Time
}

type Store struct {
	mu       sync.Mutex
	sessions map[string]*session
	ttl      time.Duration
}

func (s *Store) Create(id, user string) {
	s.mu.Lock() // want
	defer s.mu.Unlock()
	s.sessions[id] = &session{user: user, expires: time.Now().Add(s.ttl)}
}

func (s *Store) Delete(id string) {
	s.mu.Lock() // want
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// Touch extends a live session and reports whether it was live.
func (s *Store) Touch(id string) bool {
	s.mu.Lock() // want
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok {
		return false
	}
	if time.Now().After(ss.expires) {
		s.Delete(id)
		return false
	}
	ss.expires = time.Now().Add(s.ttl)
	return true
}

func run(ctx context.Context) {
	s := &Store{sessions: map[string]*session{}, ttl: 2 * time.Second}
	for i := range 100 {
		s.Create(fmt.Sprint("sess-", i), fmt.Sprint("user-", i))
	}
	for range 12 {
		go func() {
			for ctx.Err() == nil {
				// Most sessions are idle: touched rarely enough to expire.
				if !s.Touch(fmt.Sprint("sess-", rand.IntN(100))) {
					s.Create(fmt.Sprint("sess-", rand.IntN(100)), "guest")
				}
				time.Sleep(time.Duration(20+rand.IntN(40)) * time.Millisecond)
			}
		}()
	}
}
