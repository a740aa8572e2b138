//go:build !go1.26 || go1.28

package goroutines

import "github.com/asyncmon/asyncmon/collectors/dump"

// haveRecords says whether this build reads the profile as records: not
// on Go versions whose runtime layouts records.go was not checked
// against. They use pprof's debug=1 text.
const haveRecords = false

func (a *aggregator) readRecords() ([]dump.ProfileRecord, bool) { return nil, false }
