//go:build !purego

package detect

// specialIndex16 returns the position of the first byte of data that a
// JSON string cannot hold as it is (see stringSpecial) among its first
// len(data)&^15 bytes, or len(data)&^15 when there is none. It is written
// in assembly.
//
//go:noescape
func specialIndex16(data []byte, high bool) int
