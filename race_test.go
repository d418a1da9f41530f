//go:build race

package detect

// raceEnabled is set when the tests run under the race detector, which
// makes evaluations several times slower: the bounds of time that tests
// check are scaled by slowdown.
const raceEnabled = true
