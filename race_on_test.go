//go:build race

package detect

// raceEnabled is set when the tests run with the race detector, which
// slows evaluation down about tenfold.
const raceEnabled = true
