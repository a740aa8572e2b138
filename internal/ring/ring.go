// Package ring is a fixed-capacity ring buffer: the agent's snapshot
// history. It is not safe for concurrent use; callers hold their own lock.
package ring

// Ring keeps the last values pushed, up to its capacity, oldest first.
type Ring[T any] struct {
	buf   []T
	start int // index of the oldest value
	n     int // number of values held
}

// New returns a ring that holds at most capacity values (at least 1).
func New[T any](capacity int) *Ring[T] {
	if capacity < 1 {
		capacity = 1
	}
	return &Ring[T]{buf: make([]T, capacity)}
}

// Len returns the number of values held.
func (r *Ring[T]) Len() int { return r.n }

// Push appends v, dropping the oldest value when full.
func (r *Ring[T]) Push(v T) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// At returns the i-th value, 0 being the oldest. It panics if i is out of
// range, like a slice index.
func (r *Ring[T]) At(i int) T {
	if i < 0 || i >= r.n {
		panic("ring: index out of range")
	}
	return r.buf[(r.start+i)%len(r.buf)]
}

// Slice returns the values from index i (0 is the oldest) to the newest, in
// a new slice.
func (r *Ring[T]) Slice(i int) []T {
	if i < 0 {
		i = 0
	}
	if i >= r.n {
		return nil
	}
	out := make([]T, 0, r.n-i)
	for ; i < r.n; i++ {
		out = append(out, r.buf[(r.start+i)%len(r.buf)])
	}
	return out
}
