package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRoundTrip compresses streams of messages of every kind of data, with
// every window size and mode, whole and in random pieces, and checks them
// with runCalls.
func TestRoundTrip(t *testing.T) {
	rng := newRand(1)
	sizes := []int{0, 1, 125, 1 << 10, 64 << 10}
	kinds := []struct {
		name string
		gen  func(n int) []byte
	}{
		{"random", func(n int) []byte { return randomBytes(rng, n) }},
		{"repetitive", func(n int) []byte { return repetitive(rng, n) }},
		{"english", func(n int) []byte { return englishText(rng, n) }},
		{"json", func(n int) []byte { return jsonText(rng, n) }},
	}
	modes := []struct {
		name        string
		huffmanOnly bool
		reset       bool
		split       bool
	}{
		{name: "takeover"},
		{name: "takeover-split", split: true},
		{name: "reset", reset: true},
		{name: "reset-split", reset: true, split: true},
		{name: "huffman-only-split", huffmanOnly: true, split: true},
	}
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		for _, kind := range kinds {
			var msgs [][]byte
			for _, n := range sizes {
				msgs = append(msgs, kind.gen(n))
			}
			// The same message again, for context takeover to find.
			msgs = append(msgs, msgs[2], msgs[3], nil)
			for _, mode := range modes {
				t.Run(fmt.Sprintf("bits=%d/%s/%s", bits, kind.name, mode.name), func(t *testing.T) {
					w := NewWriter(bits, mode.huffmanOnly)
					var split *rand.Rand
					if mode.split {
						split = rng
					}
					runCalls(t, w, bits, messageCalls(split, msgs, mode.reset))
				})
			}
		}
	}
}

// TestRoundTripLarge compresses 4 MiB messages, which slide the history
// buffer many times over.
func TestRoundTripLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("4 MiB messages")
	}
	rng := newRand(2)
	const n = 4 << 20
	text, random, json := englishText(rng, n), randomBytes(rng, n), jsonText(rng, n)
	tests := []struct {
		name  string
		bits  int
		msgs  [][]byte
		split bool
	}{
		{"english/bits=15", 15, [][]byte{text}, false},
		{"english/bits=8/split", 8, [][]byte{text}, true},
		{"random/bits=15/split", 15, [][]byte{random}, true},
		{"random/bits=8", 8, [][]byte{random}, false},
		{"json/bits=12/split", 12, [][]byte{json, json[:1000]}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var split *rand.Rand
			if tt.split {
				split = rng
			}
			res := runCalls(t, NewWriter(tt.bits, false), tt.bits, messageCalls(split, tt.msgs, false))
			t.Logf("ratio %.3f", float64(len(res.wire))/float64(n))
		})
	}
}

// TestSyncFlushMidMessage flushes in the middle of messages, as a message
// writer's Flush does, and resets only between messages.
func TestSyncFlushMidMessage(t *testing.T) {
	rng := newRand(3)
	text := englishText(rng, 200<<10)
	for _, bits := range []int{8, 11, 15} {
		for _, reset := range []bool{false, true} {
			t.Run(fmt.Sprintf("bits=%d/reset=%t", bits, reset), func(t *testing.T) {
				var calls []call
				for p := text; len(p) > 0; {
					k := min(len(p), rng.IntN(5000))
					end := rng.IntN(4) == 0
					calls = append(calls, call{p: p[:k], flush: end || rng.IntN(3) == 0, reset: end && reset})
					p = p[k:]
				}
				calls = append(calls, call{flush: true})
				runCalls(t, NewWriter(bits, false), bits, calls)
			})
		}
	}
}

// TestWindowBound puts repeats exactly at the window's distance, which the
// encoder must use, and one byte beyond, which it must not (RFC 7692
// §7.1.2: the LZ77 sliding window is 2^bits bytes).
func TestWindowBound(t *testing.T) {
	rng := newRand(4)
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		window := 1 << bits
		tests := []struct {
			name   string
			msgs   [][]byte
			reset  bool
			usable bool // the repeats lie within the window
		}{
			{"at-window", [][]byte{repeatAt(rng, window, 6*window)}, false, true},
			{"beyond-window", [][]byte{repeatAt(rng, window+1, 6*window)}, false, false},
			{"at-window-across-messages", splitEvery(repeatAt(rng, window, 4*window), window), false, true},
			{"beyond-window-across-messages", splitEvery(repeatAt(rng, window+1, 4*window+4), window+1), false, false},
			{"reset-between-messages", splitEvery(repeatAt(rng, window/2, 4*window), window/2), true, false},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("bits=%d/%s", bits, tt.name), func(t *testing.T) {
				w := NewWriter(bits, false)
				res := runCalls(t, w, bits, messageCalls(nil, tt.msgs, tt.reset))
				in := 0
				for _, m := range tt.msgs {
					in += len(m)
				}
				far := 0
				for _, ref := range res.stream.refs {
					far = max(far, ref.dist)
				}
				if tt.usable {
					assert.Equal(t, window, far, "the repeats lie exactly a window back")
					// The table keeps one position per hash: only when it
					// has more entries than the window has positions do
					// most of them survive until the repeat comes.
					if len(w.table) >= window {
						assert.Less(t, len(res.wire), in/2)
					}
				} else {
					// Random data: the only matches are chance ones.
					assert.Greater(t, len(res.wire), in)
				}
			})
		}
	}
}

// TestIncompressible checks that data fixed codes would grow goes out in
// stored blocks, a few bytes per 32 KiB dearer than the data, and that
// stored and fixed blocks mix in one stream.
func TestIncompressible(t *testing.T) {
	rng := newRand(11)
	random := randomBytes(rng, 300<<10)
	text := englishText(rng, 20<<10)
	mixed := append(append(append([]byte(nil), text...), random[:50<<10]...), text...)
	tests := []struct {
		name        string
		bits        int
		huffmanOnly bool
		msg         []byte
		blocks      []int // the kinds of block the stream must hold
	}{
		{"bits=8", 8, false, random, []int{0}},
		{"bits=15", 15, false, random, []int{0}},
		{"huffman-only", 15, true, random, []int{0}},
		{"mixed/bits=8", 8, false, mixed, []int{0, 1}},
		{"mixed/bits=15", 15, false, mixed, []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCalls(t, NewWriter(tt.bits, tt.huffmanOnly), tt.bits, messageCalls(nil, [][]byte{tt.msg}, false))
			kinds := map[int]bool{}
			for _, b := range res.stream.blocks {
				kinds[b] = true
			}
			for _, b := range tt.blocks {
				assert.True(t, kinds[b], "no block of type %d", b)
			}
			if len(tt.blocks) == 1 {
				assert.Len(t, kinds, 1)
				// Each stored block costs 5 bytes, the flush's included, and
				// holds at least 32 KiB.
				assert.LessOrEqual(t, len(res.wire), len(tt.msg)+5*(len(tt.msg)/(32<<10)+2))
			}
		})
	}
}

// splitEvery cuts b into messages of n bytes.
func splitEvery(b []byte, n int) [][]byte {
	var msgs [][]byte
	for len(b) > n {
		msgs = append(msgs, b[:n])
		b = b[n:]
	}
	return append(msgs, b)
}

// TestContextTakeover checks that history pays across messages and that
// Reset forgets it: the second of two identical messages shrinks to a few
// bytes with takeover, and compresses to the very same bytes as the first
// after Reset.
func TestContextTakeover(t *testing.T) {
	msg := jsonText(newRand(5), 1<<10)
	tests := []struct {
		name  string
		bits  int
		reset bool
	}{
		{"takeover/bits=15", 15, false},
		{"takeover/bits=11", 11, false},
		{"reset/bits=15", 15, true},
		{"reset/bits=8", 8, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCalls(t, NewWriter(tt.bits, false), tt.bits, messageCalls(nil, [][]byte{msg, msg}, tt.reset))
			first, second := res.wire[:res.sizes[0]], res.wire[res.sizes[0]+len(syncTail):][:res.sizes[1]]
			t.Logf("first %d bytes, second %d", len(first), len(second))
			if tt.reset {
				assert.Equal(t, first, second)
			} else {
				assert.Less(t, len(second), len(first)/4)
			}
		})
	}
}

// TestRFC7692Examples compresses "Hello" as in RFC 7692 §7.2.3.1 and, twice
// with context takeover, as in §7.2.3.2.
func TestRFC7692Examples(t *testing.T) {
	hello := []byte("Hello")
	// The RFC's own bytes decode as the RFC says, through the same
	// receiver as ours: append 00 00 ff ff to each message.
	rfc := [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, {0xf2, 0x00, 0x11, 0x00, 0x00}}
	require.Equal(t, [][]byte{hello, hello}, inflateMessages(t, rfc, []int{5, 5}))

	tests := []struct {
		name        string
		huffmanOnly bool
		reset       bool
		want        [][]byte
	}{
		// One fixed-Huffman block of literals: exactly the RFC's bytes,
		// twice when nothing is taken over.
		{"reset", false, true, [][]byte{rfc[0], rfc[0]}},
		{"huffman-only", true, false, [][]byte{rfc[0], rfc[0]}},
		// With takeover the second message is a fixed block holding one
		// match, length 5 (symbol 259) at distance 5 (code 4, extra bit
		// 0), then the end of block: 0 01 | 0000011 | 00100 0 | 0000000,
		// packed as RFC 1951 §3.1.1 says. The RFC's 5 bytes differ; they
		// decode to the same.
		{"takeover", false, false, [][]byte{rfc[0], {0x02, 0x13, 0x00, 0x00}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(15, tt.huffmanOnly)
			var msgs [][]byte
			for range 2 {
				out := w.Append(nil, hello, true)
				require.True(t, bytes.HasSuffix(out, syncTail))
				msgs = append(msgs, out[:len(out)-len(syncTail)])
				if tt.reset {
					w.Reset()
				}
			}
			assert.Equal(t, tt.want, msgs)
			assert.Equal(t, [][]byte{hello, hello}, inflateMessages(t, msgs, []int{5, 5}))
		})
	}
}

// inflateMessages decodes messages of permessage-deflate with context
// takeover as a receiver does (RFC 7692 §7.2.2): one inflater for all,
// 00 00 ff ff appended to each. n is the length of each message.
func inflateMessages(t *testing.T, msgs [][]byte, n []int) [][]byte {
	t.Helper()
	src := &feed{}
	fr := flate.NewReader(src)
	var out [][]byte
	for i, m := range msgs {
		src.buf = append(append(src.buf, m...), syncTail...)
		b := make([]byte, n[i])
		_, err := io.ReadFull(fr, b)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// TestEmptyMessage checks the shortest output: an empty message is an empty
// stored block, which leaves the single byte 00 once 00 00 ff ff is
// stripped (RFC 7692 §7.2.3.6).
func TestEmptyMessage(t *testing.T) {
	for _, huffmanOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("huffmanOnly=%t", huffmanOnly), func(t *testing.T) {
			w := NewWriter(15, huffmanOnly)
			assert.Equal(t, []byte{0x00, 0x00, 0x00, 0xff, 0xff}, w.Append(nil, nil, true))
			assert.Empty(t, w.Append(nil, nil, false))
			assert.Empty(t, w.Append(nil, []byte{}, false))
			assert.Equal(t, []byte{0x00, 0x00, 0x00, 0xff, 0xff}, w.Append(nil, []byte{}, true))
		})
	}
}

// TestResetDiscardsPending checks that Reset after an Append without flush
// drops the unflushed output and leaves a Writer that starts a new stream,
// as a pooled Writer reused after a failed message needs.
func TestResetDiscardsPending(t *testing.T) {
	w := NewWriter(10, false)
	w.Append(nil, []byte("a message that never got its flush"), false)
	w.Reset()
	fresh := NewWriter(10, false)
	msg := jsonText(newRand(6), 3000)
	assert.Equal(t, fresh.Append(nil, msg, true), w.Append(nil, msg, true))
}

// TestRenormalize runs positions past the point where the table is shifted
// down, both by sliding and by Reset, and checks that nothing stale is
// referenced afterwards.
func TestRenormalize(t *testing.T) {
	rng := newRand(7)
	text := englishText(rng, 20<<10)
	for _, reset := range []bool{false, true} {
		t.Run(fmt.Sprintf("reset=%t", reset), func(t *testing.T) {
			w := NewWriter(8, false)
			w.base = renormalizeAt - 3000
			calls := messageCalls(rng, splitEvery(text, 700), reset)
			runCalls(t, w, 8, calls)
			assert.Less(t, w.base, int32(renormalizeAt/2), "renormalized")
			for _, pos := range w.table {
				assert.Less(t, pos, w.base+int32(len(w.hist)))
			}
		})
	}
}

// TestCodeTables decodes the encoder's fixed code tables with the test's
// decoder, which uses the RFC's tables.
func TestCodeTables(t *testing.T) {
	put := func(c code) *bitReader {
		var bb bitBuf
		buf := bb.align(bb.put(nil, c.bits, c.n))
		return &bitReader{in: buf}
	}
	t.Run("literals", func(t *testing.T) {
		for b := range 256 {
			sym, err := put(literalCodes[b]).fixedSymbol()
			require.NoError(t, err)
			require.Equal(t, b, sym)
		}
		sym, err := put(eobCode).fixedSymbol()
		require.NoError(t, err)
		require.Equal(t, endOfBlock, sym)
	})
	t.Run("lengths", func(t *testing.T) {
		for n := 3; n <= maxMatch; n++ {
			r := put(lengthCodes[n])
			sym, err := r.fixedSymbol()
			require.NoError(t, err)
			require.True(t, sym > 256 && sym <= 285, "symbol %d", sym)
			extra, err := r.bits(testLengthExtra[sym-257])
			require.NoError(t, err)
			require.Equal(t, n, testLengthBase[sym-257]+int(extra))
			require.Equal(t, int(lengthCodes[n].n), r.pos, "length %d: bits used", n)
		}
	})
	t.Run("distances", func(t *testing.T) {
		for d := 1; d <= 1<<MaxWindowBits; d++ {
			c, extra, nExtra := distCode(uint32(d))
			require.Less(t, c, uint32(30))
			require.Equal(t, testDistExtra[c], uint(nExtra), "distance %d", d)
			require.Less(t, extra, uint32(1)<<nExtra)
			require.Equal(t, d, testDistBase[c]+int(extra))
			code, err := (&bitReader{in: []byte{byte(distCodes[c])}}).huffman(0, 5)
			require.NoError(t, err)
			require.Equal(t, uint(c), code)
		}
	})
}

// TestMaxOutput checks the bound on worst cases: incompressible bytes of
// the 9-bit kind, after a call that left bits pending.
func TestMaxOutput(t *testing.T) {
	worst := bytes.Repeat([]byte{0xff}, 1000)
	for i := range worst {
		worst[i] = byte(144 + i%112) // literals of 9 bits
	}
	for _, n := range []int{0, 1, 2, 7, 8, 9, 100, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			for _, huffmanOnly := range []bool{false, true} {
				w := NewWriter(15, huffmanOnly)
				w.Append(nil, worst[:7], false) // leave bits pending
				assert.LessOrEqual(t, len(w.Append(nil, worst[:n], true)), MaxOutput(n))
			}
		})
	}
	assert.Equal(t, 16, MaxOutput(-1))
}

// TestAllocs pins the zero-allocation paths.
func TestAllocs(t *testing.T) {
	msg := jsonText(newRand(8), 4<<10)
	tests := []struct {
		name        string
		bits        int
		huffmanOnly bool
		reset       bool
	}{
		{"takeover/bits=15", 15, false, false},
		{"reset/bits=15", 15, false, true},
		{"takeover/bits=8", 8, false, false},
		{"huffman-only", 15, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(tt.bits, tt.huffmanOnly)
			dst := make([]byte, 0, MaxOutput(len(msg)))
			allocs := testing.AllocsPerRun(100, func() {
				dst = w.Append(dst[:0], msg[:1000], false)
				dst = w.Append(dst[:0], msg[1000:], true)
				if tt.reset {
					w.Reset()
				}
			})
			assert.Zero(t, allocs)
			assert.Zero(t, testing.AllocsPerRun(100, w.Reset))
		})
	}
}

// writerMemory is what a Writer holds: the struct and its buffers.
func writerMemory(w *Writer) int {
	return int(unsafe.Sizeof(*w)) + cap(w.hist) + cap(w.table)*int(unsafe.Sizeof(w.table[0]))
}

// TestWriterMemory checks the memory a Writer holds: about twice its
// window plus at most 16 KiB of table.
func TestWriterMemory(t *testing.T) {
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		t.Run(fmt.Sprint(bits), func(t *testing.T) {
			w := NewWriter(bits, false)
			w.Append(nil, englishText(newRand(9), 100<<10), true)
			mem := writerMemory(w)
			t.Logf("windowBits %d: %d bytes", bits, mem)
			assert.LessOrEqual(t, mem, 2<<bits+16<<10+128)
		})
	}
	t.Logf("huffmanOnly: %d bytes", writerMemory(NewWriter(15, true)))
}

// TestZeroWriter checks that a zero Writer works as NewWriter(MaxWindowBits,
// false) does, Reset first or not.
func TestZeroWriter(t *testing.T) {
	msg := englishText(newRand(13), 100<<10)
	want := NewWriter(MaxWindowBits, false).Append(nil, msg, true)
	var w Writer
	assert.Equal(t, want, w.Append(nil, msg, true))
	var r Writer
	r.Reset()
	assert.Equal(t, want, r.Append(nil, msg, true))
	runCalls(t, new(Writer), MaxWindowBits, messageCalls(newRand(14), [][]byte{msg, msg[:5000]}, false))
}

// TestNewWriterClamps checks that windowBits out of range is clamped.
func TestNewWriterClamps(t *testing.T) {
	tests := []struct{ in, window int }{{-1, 1 << 8}, {0, 1 << 8}, {7, 1 << 8}, {8, 1 << 8}, {15, 1 << 15}, {16, 1 << 15}, {99, 1 << 15}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			assert.Equal(t, int32(tt.window), NewWriter(tt.in, false).window)
			assert.Equal(t, int32(tt.window), NewWriter(tt.in, true).window)
		})
	}
}
