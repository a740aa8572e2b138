// Package crawlerwait crawls a site with a fan-out of fetchers that send
// their pages on an unbuffered channel. The coordinator waits for all
// fetchers before it reads the pages, so every fetcher blocks on its send
// and the coordinator on Wait.
package crawlerwait

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncmon/asyncmon/bench/corpus"
)

func init() {
	corpus.Register(corpus.Program{
		Name: "crawlerwait", Class: corpus.ChannelWaitGroup, Leaks: 65, Short: true,
		Doc: "crawler: wg.Wait before reading an unbuffered results channel; 64 fetchers and the coordinator stop",
		Run: run,
	})
}

type page struct {
	url   string
	links int
}

func fetch(url string, pages chan<- page, wg *sync.WaitGroup) {
	defer wg.Done()
	time.Sleep(10 * time.Millisecond)            // the GET
	pages <- page{url: url, links: len(url) % 7} // want
}

func crawl(urls []string) []page {
	pages := make(chan page)
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		go fetch(u, pages, &wg)
	}
	wg.Wait() // want
	close(pages)
	var out []page
	for p := range pages {
		out = append(out, p)
	}
	return out
}

func run(ctx context.Context) {
	// The sitemap lists 64 product pages.
	var urls []string
	for i := range 64 {
		urls = append(urls, fmt.Sprintf("https://shop.example/p/%d", i))
	}
	_ = crawl(urls)
}
