// Package leaktest holds the tests of the goroutineleak profile support:
// goroutines that truly leak (nothing can ever wake them) and the live
// collector proving it. The profile exists in Go 1.27, and in Go 1.26
// builds with GOEXPERIMENT=goroutineleakprofile; elsewhere the tests
// skip. Its goroutines leak for good, so it lives apart from the packages
// whose tests check for leaked goroutines.
package leaktest
