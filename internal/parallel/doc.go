// Package parallel runs a loop over [0, n) on a few goroutines, in
// fixed pieces, so that a result summed piece by piece afterwards is the
// same for any number of workers.
//
// In: a worker count, n, a piece size and a function of one piece. Out:
// the function called once for each piece, on up to that many goroutines
// (the caller's among them).
package parallel
