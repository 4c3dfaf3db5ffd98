package frame

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maskBytes is the byte-at-a-time definition of RFC 6455 §5.3, the reference
// Mask is checked against.
func maskBytes(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

func TestMaskMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for n := 0; n <= 200; n++ {
		for pos := range 8 {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(rng.Uint32())
			}
			want := append([]byte(nil), src...)
			got := append([]byte(nil), src...)
			wantEnd := maskBytes(key, pos, want)
			gotEnd := Mask(key, pos, got)
			require.Equal(t, want, got, "len %d pos %d", n, pos)
			require.Equal(t, wantEnd, gotEnd, "len %d pos %d", n, pos)
		}
	}
}

// TestMaskBlocks checks the architecture's maskBlocks (assembly on amd64)
// against the portable loop and the byte-wise definition, at every length
// up to 600 and every alignment of the start within 16 bytes.
func TestMaskBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const k = 0x3d21fa373d21fa37
	mem := make([]byte, 600+16+64)
	for n := 0; n <= 600; n++ {
		for off := range 16 {
			for i := range mem {
				mem[i] = byte(rng.Uint32())
			}
			want := append([]byte(nil), mem...)
			got := append([]byte(nil), mem...)
			wantN := maskBlocksGo(want[off:off+n], k)
			gotN := maskBlocks(got[off:off+n], k)
			require.LessOrEqual(t, gotN, n)
			require.Zero(t, gotN%32, "whole blocks only")
			// The portable loop works 32-byte blocks, the assembly may
			// leave more for Mask's tail: compare after finishing both
			// with the reference.
			maskBytesWord(want[off+wantN:off+n], k)
			maskBytesWord(got[off+gotN:off+n], k)
			require.Equal(t, want, got, "len %d offset %d: bytes outside b must not change either", n, off)
			ref := append([]byte(nil), mem...)
			maskBytes([4]byte{0x37, 0xfa, 0x21, 0x3d}, 0, ref[off:off+n])
			require.Equal(t, ref, got, "len %d offset %d", n, off)
		}
	}
}

// TestMaskCopy checks MaskCopy against copy and the byte-wise definition,
// into a separate buffer and moved down within one buffer (dst a header's
// length before src), at every length up to 600 and every key offset.
func TestMaskCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for n := 0; n <= 600; n++ {
		for pos := range 4 {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(rng.Uint32())
			}
			want := append([]byte{}, src...)
			wantEnd := maskBytes(key, pos, want)

			dst := make([]byte, n+8)
			for i := range dst {
				dst[i] = 0xee
			}
			end := MaskCopy(dst, src, key, pos)
			require.Equal(t, wantEnd, end)
			require.Equal(t, want, dst[:n], "len %d pos %d", n, pos)
			require.Equal(t, bytes.Repeat([]byte{0xee}, 8), dst[n:], "len %d: bytes past src's length must not change", n)

			for _, gap := range []int{0, 1, 2, 6, 8, 14} {
				buf := append(make([]byte, gap), src...)
				MaskCopy(buf, buf[gap:], key, pos)
				require.Equal(t, want, buf[:n], "moved down by %d, len %d pos %d", gap, n, pos)
			}
		}
	}
}

// maskBytesWord XORs b byte by byte with the little-endian bytes of k.
func maskBytesWord(b []byte, k uint64) {
	for i := range b {
		b[i] ^= byte(k >> (8 * (i & 7)))
	}
}

func TestMaskInPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	key := [4]byte{1, 2, 3, 4}
	payload := make([]byte, 5000)
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	whole := append([]byte(nil), payload...)
	Mask(key, 0, whole)

	pieces := append([]byte(nil), payload...)
	pos := 0
	for b := pieces; len(b) > 0; {
		n := min(len(b), 1+rng.IntN(100))
		pos = Mask(key, pos, b[:n])
		b = b[n:]
	}
	assert.Equal(t, whole, pieces)

	Mask(key, 0, whole)
	assert.Equal(t, payload, whole, "masking twice restores the payload")
}

func TestMaskAllocs(t *testing.T) {
	b := make([]byte, 4096)
	assert.Zero(t, testing.AllocsPerRun(100, func() { Mask([4]byte{1, 2, 3, 4}, 1, b) }))
}

var maskSizes = []int{64, 125, 1 << 10, 4 << 10, 64 << 10, 1 << 20}

// BenchmarkMask compares Mask with a byte loop and with copy() of the same
// size, the floor any pass over memory pays.
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, size := range maskSizes {
		buf := make([]byte, size)
		src := make([]byte, size)
		b.Run(fmt.Sprintf("word/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				Mask(key, 1, buf)
			}
		})
		b.Run(fmt.Sprintf("byte/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				maskBytes(key, 1, buf)
			}
		})
		b.Run(fmt.Sprintf("maskcopy/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				MaskCopy(buf, src, key, 1)
			}
		})
		b.Run(fmt.Sprintf("copy/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, src)
			}
		})
	}
}
