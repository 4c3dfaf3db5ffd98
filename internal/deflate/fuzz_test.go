package deflate

import (
	"bytes"
	"testing"
)

// FuzzRoundTrip compresses data cut into calls as plan says, with the
// window size and level that bits picks and the mode of mode, and checks
// the stream with runCalls: compress/flate and testInflate must decode every flushed
// segment to the input, no back-reference may pass the window or a Reset,
// and no call may exceed MaxOutput.
//
// Each byte of plan makes one call: its low 6 bits a size (times 97 if bit 6
// is set) and bit 7 a flush; a flush ends a message, followed by Reset when
// mode asks for it. Whatever data remains after plan is the last call.
// bits: windowBits 8 + bits%8, level 1 + bits/8%9. mode: bit 1 Reset after
// each message, bits 2-5 how many times data is repeated, for long matches
// and many slides.
func FuzzRoundTrip(f *testing.F) {
	rng := newRand(12)
	f.Add([]byte("Hello"), []byte{}, uint8(7), uint8(0))
	f.Add([]byte("Hello"), []byte{0x85}, uint8(0), uint8(2))
	f.Add([]byte{}, []byte{0x80, 0x80, 0x00}, uint8(3), uint8(0))
	f.Add(englishText(rng, 2000), []byte{0x10, 0x4a, 0x80, 0x3f, 0xc1, 0x00, 0x90}, uint8(0), uint8(4*3))
	f.Add(jsonText(rng, 3000), []byte{0xff, 0x07, 0x87, 0x40}, uint8(5), uint8(2|4*1))
	f.Add(randomBytes(rng, 700), []byte{0x45, 0x80, 0x45}, uint8(1), uint8(4*7))
	f.Add(repetitive(rng, 1500), []byte{0x7f, 0x3f, 0xbf}, uint8(7), uint8(4*15))
	f.Add(repeatAt(rng, 256, 600), []byte{}, uint8(0), uint8(0))
	f.Add(repeatAt(rng, 257, 600), []byte{0x81}, uint8(0), uint8(2|4*2))
	f.Add(randomBytes(rng, 300), []byte{0x20, 0xa0}, uint8(0), uint8(1|4*9))
	f.Add(englishText(rng, 5000), []byte{0x7f, 0x80, 0x3f}, uint8(7+8*8), uint8(4*5))
	f.Add(jsonText(rng, 4000), []byte{0xc5, 0x0f, 0x81}, uint8(2+8*5), uint8(2|4*3))
	f.Add(repetitive(rng, 3000), []byte{0x41, 0xc2}, uint8(8*3), uint8(4*2))
	f.Fuzz(func(t *testing.T, data, plan []byte, bits, mode uint8) {
		windowBits := MinWindowBits + int(bits)%(MaxWindowBits-MinWindowBits+1)
		level := BestSpeed + int(bits)/8%BestCompression
		reset := mode&2 != 0
		data = bytes.Repeat(data, 1+int(mode>>2)&15)
		var calls []call
		for _, c := range plan {
			n := int(c & 0x3f)
			if c&0x40 != 0 {
				n *= 97
			}
			n = min(n, len(data))
			flush := c&0x80 != 0
			calls = append(calls, call{p: data[:n], flush: flush, reset: flush && reset})
			data = data[n:]
		}
		calls = append(calls, call{p: data, flush: true})
		runCalls(t, NewWriter(windowBits, level), windowBits, calls)
	})
}
