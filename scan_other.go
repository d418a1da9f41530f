//go:build !amd64 || purego

package detect

import (
	"encoding/binary"
	"math/bits"
)

// specialIndex16 returns the position of the first byte of data that a
// JSON string cannot hold as it is (see stringSpecial) among its first
// len(data)&^15 bytes, or len(data)&^15 when there is none.
func specialIndex16(data []byte, high bool) int {
	var extra uint64
	if high {
		extra = highBits
	}
	// rest shrinks by whole words, which spares the loop bounds checks.
	rest := data[:len(data)&^15]
	for len(rest) >= 16 {
		x, y := binary.LittleEndian.Uint64(rest), binary.LittleEndian.Uint64(rest[8:])
		mx, my := wordFlags(x, extra), wordFlags(y, extra)
		if mx|my != 0 {
			if mx != 0 {
				return len(data)&^15 - len(rest) + bits.TrailingZeros64(mx)/8
			}
			return len(data)&^15 - len(rest) + 8 + bits.TrailingZeros64(my)/8
		}
		rest = rest[16:]
	}
	return len(data) &^ 15
}
