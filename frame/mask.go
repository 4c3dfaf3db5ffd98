package frame

import (
	"encoding/binary"
	"math/bits"
)

// Mask XORs b with the masking key (RFC 6455 §5.3), as if b started at
// offset pos of the payload, and returns the offset just past b modulo 4.
// Calling it on successive pieces of a payload, passing each call's result
// to the next, masks the whole payload: a payload can be unmasked in place as
// it streams in. Masking twice restores the original bytes.
//
// It works a 64-bit word at a time in pure Go.
func Mask(key [4]byte, pos int, b []byte) int {
	end := (pos + len(b)) & 3
	if len(b) == 0 {
		return end
	}
	// Rotate the key so that its first byte is the one for b[0]; in a
	// little-endian word that byte is the lowest.
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	k := uint64(k32)<<32 | uint64(k32)
	for len(b) >= 32 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])^k)
		binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(b[16:])^k)
		binary.LittleEndian.PutUint64(b[24:], binary.LittleEndian.Uint64(b[24:])^k)
		b = b[32:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= byte(k >> (8 * i))
	}
	return end
}
