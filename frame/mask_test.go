package frame

import (
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

var maskSizes = []int{64, 4 << 10, 64 << 10, 1 << 20}

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
		b.Run(fmt.Sprintf("copy/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, src)
			}
		})
	}
}
