package broker

import "testing"

func TestBrokerKeepsNewestAndBounds(t *testing.T) {
	b := New[int](2)
	a, c := b.Subscribe(), b.Subscribe()
	if a == nil || c == nil {
		t.Fatal("subscriber refused under the limit")
	}
	if b.Subscribe() != nil {
		t.Fatal("third subscriber taken with a limit of 2")
	}
	b.Publish(1)
	b.Publish(2) // neither took 1: both get 2 in its place, and Publish did not block
	if got := <-a; got != 2 {
		t.Errorf("got %d, want the newest value 2", got)
	}
	b.Unsubscribe(c)
	if b.Subscribe() == nil {
		t.Error("subscriber refused after one left")
	}
}
