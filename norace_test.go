//go:build !race

package detect

// raceEnabled is set when the tests run under the race detector.
const raceEnabled = false
