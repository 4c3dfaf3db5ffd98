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
// It works 64 bytes at a time with SSE2 on amd64 (mask_amd64.s), a 64-bit
// word at a time in pure Go elsewhere or with the purego build tag.
func Mask(key [4]byte, pos int, b []byte) int {
	end := (pos + len(b)) & 3
	if len(b) == 0 {
		return end
	}
	// Rotate the key so that its first byte is the one for b[0]; in a
	// little-endian word that byte is the lowest.
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	k := uint64(k32)<<32 | uint64(k32)
	if len(b) >= 128 { // below that the call costs more than it saves
		b = b[maskBlocks(b, k):]
	}
	b = b[maskBlocksGo(b, k):]
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= byte(k >> (8 * i))
	}
	return end
}

// MaskCopy writes src masked with key into dst, as if src started at offset
// pos of the payload, in one pass over memory: Mask after copy, without
// the copy's pass. It returns the offset just past src modulo 4. dst must be
// at least as long as src; dst and src must not overlap unless dst starts
// at or before src (moving a payload down in its buffer works).
func MaskCopy(dst, src []byte, key [4]byte, pos int) int {
	end := (pos + len(src)) & 3
	dst = dst[:len(src)]
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	k := uint64(k32)<<32 | uint64(k32)
	if len(src) >= 128 {
		n := maskCopyBlocks(dst, src, k)
		dst, src = dst[n:], src[n:]
	}
	n := maskCopyBlocksGo(dst, src, k)
	dst, src = dst[n:], src[n:]
	for len(src) >= 8 {
		binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src)^k)
		dst, src = dst[8:], src[8:]
	}
	for i := range src {
		dst[i] = src[i] ^ byte(k>>(8*i))
	}
	return end
}

// maskCopyBlocksGo is maskBlocksGo from src into dst (len(dst) >= len(src)).
func maskCopyBlocksGo(dst, src []byte, k uint64) int {
	n := len(src) &^ 31
	for i := 0; i < n; i += 32 {
		s, d := src[i:i+32:i+32], dst[i:i+32:i+32]
		binary.LittleEndian.PutUint64(d, binary.LittleEndian.Uint64(s)^k)
		binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:])^k)
		binary.LittleEndian.PutUint64(d[16:], binary.LittleEndian.Uint64(s[16:])^k)
		binary.LittleEndian.PutUint64(d[24:], binary.LittleEndian.Uint64(s[24:])^k)
	}
	return n
}

// maskBlocksGo XORs each 8-byte word of the whole 32-byte blocks at the
// start of b with k, and returns how many bytes it did: the portable
// maskBlocks, and the reference the assembly is tested against.
func maskBlocksGo(b []byte, k uint64) int {
	n := len(b) &^ 31
	for i := 0; i < n; i += 32 {
		w := b[i : i+32 : i+32]
		binary.LittleEndian.PutUint64(w, binary.LittleEndian.Uint64(w)^k)
		binary.LittleEndian.PutUint64(w[8:], binary.LittleEndian.Uint64(w[8:])^k)
		binary.LittleEndian.PutUint64(w[16:], binary.LittleEndian.Uint64(w[16:])^k)
		binary.LittleEndian.PutUint64(w[24:], binary.LittleEndian.Uint64(w[24:])^k)
	}
	return n
}
