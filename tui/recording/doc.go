// Package recording is asyncmon's recording format: what `asyncmon attach
// --record FILE` writes and `asyncmon replay FILE` plays in the terminal UI.
//
// [NewRecorder] writes a recording and [Tee] records everything a
// [tui.Source] delivers on its way to the UI. [Open] validates a recording
// and returns a [Replay], a tui.Source and tui.Player that plays it at its
// recorded pace, with pause and step, reading the file as it goes.
//
// # Format
//
// A recording is UTF-8 text, optionally gzipped (readers detect gzip by its
// magic bytes). The first line is a header object:
//
//	{"asyncmon_recording":1,"target":"127.0.0.1:7071","started":"2026-11-27T00:00:00Z"}
//
// Every further line is one record object with its arrival time "t" and
// one of "snapshot" (a model.Snapshot), "findings" (a []model.Finding) or
// "unavailable" (the views the recorded source could not feed, by
// lower-case name, with the reason). Readers skip records with fields they
// do not know, so version 1 can gain record kinds without breaking older
// readers; an incompatible change raises [Version].
package recording
