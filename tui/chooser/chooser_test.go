package chooser

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

func TestChoose(t *testing.T) {
	tests := []struct {
		name string
		keys func(sim tcell.SimulationScreen)
		want int
		err  error
	}{
		{"enter picks the highlighted", func(s tcell.SimulationScreen) {
			s.InjectKey(tcell.KeyDown, 0, tcell.ModNone)
			s.InjectKey(tcell.KeyEnter, 0, tcell.ModNone)
		}, 1, nil},
		{"digit picks", func(s tcell.SimulationScreen) { s.InjectKey(tcell.KeyRune, '3', tcell.ModNone) }, 2, nil},
		{"q leaves", func(s tcell.SimulationScreen) { s.InjectKey(tcell.KeyRune, 'q', tcell.ModNone) }, -1, ErrNoChoice},
		{"esc leaves", func(s tcell.SimulationScreen) { s.InjectKey(tcell.KeyEscape, 0, tcell.ModNone) }, -1, ErrNoChoice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := tcell.NewSimulationScreen("UTF-8")
			started := make(chan *tview.Application, 1)
			type result struct {
				i   int
				err error
			}
			res := make(chan result, 1)
			go func() {
				i, err := choose(context.Background(), Options{Title: "which agent?",
					Items: []string{"101  127.0.0.1:7071  shopd", "202  127.0.0.1:7072  billing", "303  127.0.0.1:7073  search"}, Screen: sim}, started)
				res <- result{i, err}
			}()
			app := <-started
			// Wait until the list is on screen, read on the UI goroutine.
			deadline := time.Now().Add(5 * time.Second)
			for {
				var text string
				app.QueueUpdate(func() {
					cells, _, _ := sim.GetContents()
					var b strings.Builder
					for _, c := range cells {
						b.Write(c.Bytes)
					}
					text = b.String()
				})
				if strings.Contains(text, "which agent?") && strings.Contains(text, "billing") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("chooser not drawn: %q", text)
				}
				time.Sleep(10 * time.Millisecond)
			}
			tt.keys(sim)
			select {
			case r := <-res:
				if r.i != tt.want || !errors.Is(r.err, tt.err) {
					t.Errorf("got %d, %v; want %d, %v", r.i, r.err, tt.want, tt.err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("chooser did not return")
			}
		})
	}
}

func TestChooseEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *tview.Application, 1)
	res := make(chan error, 1)
	go func() {
		_, err := choose(ctx, Options{Title: "t", Items: []string{"a"}, Screen: tcell.NewSimulationScreen("")}, started)
		res <- err
	}()
	<-started
	cancel()
	select {
	case err := <-res:
		if !errors.Is(err, ErrNoChoice) {
			t.Errorf("got %v, want ErrNoChoice", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("chooser did not end with its context")
	}
}
