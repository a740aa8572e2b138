// Package leaktest holds a test of the goroutineleak profile support that
// runs only under GOEXPERIMENT=goroutineleakprofile (see leak_test.go).
package leaktest
