// Package clientsource holds the terminal UI's live sources, both read
// through agent/client: [Source] over an asyncmon agent (history
// backfill, snapshot stream, findings, reconnects) and [PprofSource] over
// a service that serves only net/http/pprof (goroutine and contention
// profiles turned into snapshots and findings by internal/offline).
// [Open] tells the two kinds of target apart.
package clientsource
