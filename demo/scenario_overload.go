package demo

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// The overload scenario is a service that queues work without bound: GET
// /api/report renders a report on a pool of one renderer that takes
// 250 ms a report (4 a second), while clients ask for 16 a second at
// first and one more every 2 s after that, as traffic rises through a
// morning. Each handler waits for the renderer for up to 28 s before
// giving up, so requests pile up by 12 a second and more, and every one
// waits longer than the one before; nothing answers "busy" early. (28 s
// keeps each request under the stuck-request detector's 30 s: this is a
// queue, not a stall.)
//
// The rising rate keeps the pile growing after the first requests time
// out: at a fixed rate, the queue would level off 28 s in, once as many
// give up each second as arrive. It grows for about two minutes, until
// the clients' own bound stops it.
const (
	overloadRate      = 16 // report requests per second at the start
	overloadRampEvery = 2 * time.Second
	overloadMaxRate   = 64
	overloadRender    = 250 * time.Millisecond
	overloadWait      = 28 * time.Second
	overloadMaxInFly  = 2000 // the clients' own bound, so the demo stays bounded
)

func overloadScenario() Scenario {
	return Scenario{
		Name:        "overload",
		Description: "GET /api/report queues requests for a renderer that serves 4 a second while 16 a second arrive, and more each second, shedding nothing",
		Run:         runOverload,
	}
}

func runOverload(env *Env) error {
	renderer := make(chan struct{}, 1) // one renderer
	env.Mux.HandleFunc("GET /api/report", func(w http.ResponseWriter, r *http.Request) {
		wait := time.NewTimer(overloadWait)
		defer wait.Stop()
		select {
		case renderer <- struct{}{}: // queues here: no limit on waiters
		case <-wait.C:
			http.Error(w, "timed out waiting for the renderer", http.StatusServiceUnavailable)
			return
		case <-r.Context().Done():
			return
		}
		defer func() { <-renderer }()
		render := time.NewTimer(overloadRender)
		defer render.Stop()
		select {
		case <-render.C:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "report\n")
	})
	// Clients that wait a minute for their report: they have a deadline,
	// and keep asking at the same rate whatever the service answers.
	client := &http.Client{Timeout: time.Minute, Transport: env.Agent().HTTPTransport(&http.Transport{MaxIdleConnsPerHost: 64})}
	url := env.URL() + "/api/report"
	env.Go(func(ctx context.Context) {
		defer client.CloseIdleConnections()
		var wg sync.WaitGroup
		defer wg.Wait()
		sem := make(chan struct{}, overloadMaxInFly)
		rate := overloadRate
		t := time.NewTicker(time.Second / time.Duration(rate))
		defer t.Stop()
		ramp := time.NewTicker(overloadRampEvery)
		defer ramp.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ramp.C:
				if rate < overloadMaxRate {
					rate++
					t.Reset(time.Second / time.Duration(rate))
				}
				continue
			case <-t.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					return
				}
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
	})
	return nil
}
