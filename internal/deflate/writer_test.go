package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRoundTrip compresses streams of messages of every kind of data, with
// every window size and mode, whole and in random pieces, and checks them
// with runCalls. The level changes with window size and mode, so that every
// level meets every mode.
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
		name  string
		reset bool
		split bool
	}{
		{name: "takeover"},
		{name: "takeover-split", split: true},
		{name: "reset", reset: true},
		{name: "reset-split", reset: true, split: true},
	}
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		for _, kind := range kinds {
			var msgs [][]byte
			for _, n := range sizes {
				msgs = append(msgs, kind.gen(n))
			}
			// The same message again, for context takeover to find.
			msgs = append(msgs, msgs[2], msgs[3], nil)
			for m, mode := range modes {
				level := 1 + (bits+2*m)%9
				t.Run(fmt.Sprintf("bits=%d/%s/%s/level=%d", bits, kind.name, mode.name, level), func(t *testing.T) {
					w := NewWriter(bits, level)
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
		level int
		msgs  [][]byte
		split bool
	}{
		{"english/bits=15/level=9", 15, 9, [][]byte{text}, false},
		{"english/bits=15/level=1", 15, 1, [][]byte{text}, false},
		{"english/bits=8/split/level=6", 8, 6, [][]byte{text}, true},
		{"random/bits=15/split/level=5", 15, 5, [][]byte{random}, true},
		{"random/bits=8/level=9", 8, 9, [][]byte{random}, false},
		{"json/bits=12/split/level=3", 12, 3, [][]byte{json, json[:1000]}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var split *rand.Rand
			if tt.split {
				split = rng
			}
			res := runCalls(t, NewWriter(tt.bits, tt.level), tt.bits, messageCalls(split, tt.msgs, false))
			t.Logf("ratio %.3f", float64(len(res.wire))/float64(n))
		})
	}
}

// TestSyncFlushMidMessage flushes in the middle of messages, as a message
// writer's Flush does, and resets only between messages.
func TestSyncFlushMidMessage(t *testing.T) {
	rng := newRand(3)
	text := englishText(rng, 200<<10)
	for i, bits := range []int{8, 11, 15} {
		for j, reset := range []bool{false, true} {
			level := []int{1, 4, 6, 7, 8, 9}[2*i+j]
			t.Run(fmt.Sprintf("bits=%d/reset=%t/level=%d", bits, reset, level), func(t *testing.T) {
				var calls []call
				for p := text; len(p) > 0; {
					k := min(len(p), rng.IntN(5000))
					end := rng.IntN(4) == 0
					calls = append(calls, call{p: p[:k], flush: end || rng.IntN(3) == 0, reset: end && reset})
					p = p[k:]
				}
				calls = append(calls, call{flush: true})
				runCalls(t, NewWriter(bits, level), bits, calls)
			})
		}
	}
}

// TestWindowBound puts repeats exactly at the window's distance, which the
// encoder must use, and one byte beyond, which it must not (RFC 7692
// §7.1.2: the LZ77 sliding window is 2^bits bytes), at the fastest level,
// the default and the best.
func TestWindowBound(t *testing.T) {
	rng := newRand(4)
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		for _, level := range []int{BestSpeed, DefaultCompression, BestCompression} {
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
				t.Run(fmt.Sprintf("bits=%d/%s/level=%d", bits, tt.name, level), func(t *testing.T) {
					w := NewWriter(bits, level)
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
						// Only when the table has more entries than the window
						// has positions do most of them survive until the
						// repeat comes.
						if len(w.table) >= window {
							assert.Less(t, len(res.wire), in/2)
						}
					} else {
						// Random data: the only matches are chance ones,
						// short and few. (The size says less: a dynamic
						// code may squeeze a repeated unit of a few hundred
						// random bytes a little.)
						copied := 0
						for _, ref := range res.stream.refs {
							copied += ref.length
						}
						assert.Less(t, copied, in/50)
					}
				})
			}
		}
	}
}

// TestIncompressible checks that data Huffman codes would grow goes out in
// stored blocks, a few bytes per 32 KiB dearer than the data, and that
// stored and Huffman-coded blocks mix in one stream.
func TestIncompressible(t *testing.T) {
	rng := newRand(11)
	random := randomBytes(rng, 300<<10)
	text := englishText(rng, 20<<10)
	mixed := append(append(append([]byte(nil), text...), random[:50<<10]...), text...)
	tests := []struct {
		name   string
		bits   int
		level  int
		msg    []byte
		blocks []int // the kinds of block the stream must hold: BTYPE, or 3 for 1 or 2
	}{
		{"bits=8", 8, 1, random, []int{0}},
		{"bits=15", 15, 5, random, []int{0}},
		{"bits=15/level=9", 15, 9, random, []int{0}},
		{"mixed/bits=8", 8, 1, mixed, []int{0, 3}},
		{"mixed/bits=15", 15, 9, mixed, []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCalls(t, NewWriter(tt.bits, tt.level), tt.bits, messageCalls(nil, [][]byte{tt.msg}, false))
			kinds := map[int]bool{}
			for _, b := range res.stream.blocks {
				kinds[b] = true
			}
			kinds[3] = kinds[1] || kinds[2]
			for _, b := range tt.blocks {
				assert.True(t, kinds[b], "no block of type %d", b)
			}
			if len(tt.blocks) == 1 {
				assert.Equal(t, map[int]bool{0: true, 3: false}, kinds)
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
		level int
		reset bool
	}{
		{"takeover/bits=15", 15, 1, false},
		{"takeover/bits=15/level=9", 15, 9, false},
		{"takeover/bits=11", 11, 5, false},
		{"reset/bits=15", 15, 1, true},
		{"reset/bits=15/level=9", 15, 9, true},
		{"reset/bits=8", 8, 6, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCalls(t, NewWriter(tt.bits, tt.level), tt.bits, messageCalls(nil, [][]byte{msg, msg}, tt.reset))
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
		name  string
		level int
		reset bool
		want  [][]byte
	}{
		// One fixed-Huffman block of literals: exactly the RFC's bytes,
		// twice when nothing is taken over.
		{"reset", 1, true, [][]byte{rfc[0], rfc[0]}},
		{"reset/level=9", 9, true, [][]byte{rfc[0], rfc[0]}},
		// With takeover the second message is a fixed block holding one
		// match, length 5 (symbol 259) at distance 5 (code 4, extra bit
		// 0), then the end of block: 0 01 | 0000011 | 00100 0 | 0000000,
		// packed as RFC 1951 §3.1.1 says. The RFC's 5 bytes differ; they
		// decode to the same.
		{"takeover", 1, false, [][]byte{rfc[0], {0x02, 0x13, 0x00, 0x00}}},
		{"takeover/level=9", 9, false, [][]byte{rfc[0], {0x02, 0x13, 0x00, 0x00}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(15, tt.level)
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
	for _, level := range []int{BestSpeed, BestCompression} {
		t.Run(fmt.Sprintf("level=%d", level), func(t *testing.T) {
			w := NewWriter(15, level)
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
	w := NewWriter(10, 7)
	w.Append(nil, []byte("a message that never got its flush"), false)
	w.Reset()
	fresh := NewWriter(10, 7)
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
		for _, level := range []int{BestSpeed, BestCompression} {
			t.Run(fmt.Sprintf("reset=%t/level=%d", reset, level), func(t *testing.T) {
				w := NewWriter(8, level)
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
}

// TestCodeTables decodes the encoder's fixed code tables with the test's
// decoder, which uses the RFC's tables.
func TestCodeTables(t *testing.T) {
	put := func(c code, extra uint32, nExtra uint8) *bitReader {
		var bb bitBuf
		buf := bb.align(bb.put(nil, c.bits|extra<<c.n, c.n+nExtra))
		return &bitReader{in: buf}
	}
	t.Run("literals", func(t *testing.T) {
		for b := range 257 {
			sym, err := put(fixedLit[b], 0, 0).fixedSymbol()
			require.NoError(t, err)
			require.Equal(t, b, sym)
		}
	})
	t.Run("lengths", func(t *testing.T) {
		for n := 3; n <= maxMatch; n++ {
			s := lengthSym[n]
			r := put(fixedLit[s], uint32(lengthExtra[n]), litExtra[s])
			sym, err := r.fixedSymbol()
			require.NoError(t, err)
			require.True(t, sym > 256 && sym <= 285, "symbol %d", sym)
			extra, err := r.bits(testLengthExtra[sym-257])
			require.NoError(t, err)
			require.Equal(t, n, testLengthBase[sym-257]+int(extra))
			require.Equal(t, int(fixedLit[s].n+litExtra[s]), r.pos, "length %d: bits used", n)
		}
	})
	t.Run("distances", func(t *testing.T) {
		for d := 1; d <= 1<<MaxWindowBits; d++ {
			c, extra, nExtra := distCode(uint32(d))
			require.Less(t, c, uint32(30))
			require.Equal(t, testDistExtra[c], uint(nExtra), "distance %d", d)
			require.Equal(t, nExtra, distExtra[c])
			require.Less(t, extra, uint32(1)<<nExtra)
			require.Equal(t, d, testDistBase[c]+int(extra))
			code, err := put(fixedDist[c], 0, 0).huffman(0, 5)
			require.NoError(t, err)
			require.Equal(t, uint(c), code)
		}
	})
}

// TestHuffmanLengths checks the code lengths huffmanLengths makes: never
// longer than the limit, always a complete code (what zlib's inflate
// demands), and as short on average as Huffman's algorithm makes them
// whenever the limit does not bind.
func TestHuffmanLengths(t *testing.T) {
	rng := newRand(15)
	// optimal returns the cost of a Huffman code for freq without a
	// limit, and its longest code: it merges the two lightest subtrees
	// until one is left, each merge adding a bit to the codes in both.
	optimal := func(freq []uint16) (cost, longest int) {
		type tree struct{ weight, depth int }
		var trees []tree
		for _, f := range freq {
			if f != 0 {
				trees = append(trees, tree{int(f), 0})
			}
		}
		for len(trees) > 1 {
			slices.SortFunc(trees, func(a, b tree) int { return a.weight - b.weight })
			a, b := trees[0], trees[1]
			cost += a.weight + b.weight
			trees = append(trees[2:], tree{a.weight + b.weight, max(a.depth, b.depth) + 1})
		}
		if len(trees) == 1 {
			longest = trees[0].depth
		}
		return cost, longest
	}
	fib := make([]uint16, 30)
	fib[0], fib[1] = 1, 1
	for i := 2; i < len(fib)-6; i++ {
		fib[i] = fib[i-1] + fib[i-2] // up to 28657, at depth 23 unlimited
	}
	tests := []struct {
		name string
		freq []uint16
		max  int
	}{
		{"none", make([]uint16, 30), 15},
		{"one", []uint16{0, 0, 7, 0}, 15},
		{"one-zero", []uint16{9, 0, 0, 0}, 7},
		{"two", []uint16{0, 1000, 0, 1}, 15},
		{"fibonacci/15", fib, 15},
		{"fibonacci/7", fib[:19], 7},
		{"even", slices.Repeat([]uint16{3}, 286), 15},
	}
	for i := range 200 {
		n := []int{2, 3, 19, 30, 286}[i%5]
		freq := make([]uint16, n)
		for s := range freq {
			if rng.IntN(3) != 0 {
				freq[s] = uint16(rng.IntN(1 + rng.IntN(8000)))
			}
		}
		tests = append(tests, struct {
			name string
			freq []uint16
			max  int
		}{fmt.Sprintf("random/%d", i), freq, []int{15, 7}[i%2*min(1, 128/n)]})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lengths := make([]uint8, len(tt.freq))
			huffmanLengths(tt.freq, lengths, tt.max)
			space, used, cost, longest := 0, 0, 0, 0
			for s, l := range lengths {
				require.LessOrEqual(t, int(l), tt.max)
				if tt.freq[s] != 0 {
					require.NotZero(t, l, "symbol %d is used", s)
				}
				if l != 0 {
					space += 1 << (tt.max - int(l))
					used++
				}
				cost += int(tt.freq[s]) * int(l)
				longest = max(longest, int(l))
			}
			assert.Equal(t, 1<<tt.max, space, "complete code")
			assert.GreaterOrEqual(t, used, 2)
			opt, optLongest := optimal(tt.freq)
			if optLongest <= tt.max && optLongest > 0 {
				assert.Equal(t, opt, cost, "optimal")
			} else {
				assert.GreaterOrEqual(t, cost, opt)
			}
			// The canonical codes decode to the symbols.
			codes := make([]code, len(lengths))
			canonicalCodes(lengths, codes)
			il := make([]int, len(lengths))
			for s, l := range lengths {
				il[s] = int(l)
			}
			dec, err := newHuffDecoder(il)
			require.NoError(t, err)
			for s, c := range codes {
				if c.n == 0 {
					continue
				}
				var bb bitBuf
				sym, err := (&bitReader{in: bb.align(bb.put(nil, c.bits, c.n))}).decode(dec)
				require.NoError(t, err)
				require.Equal(t, s, sym)
			}
		})
	}
}

// TestBlockCosts checks that blockCosts predicts to the bit what writeBlock
// appends for each kind of block, since Append's choice and MaxOutput rest
// on it, with and without an open fixed block or a stored block to grow.
func TestBlockCosts(t *testing.T) {
	rng := newRand(16)
	inputs := map[string][]byte{
		"english":    englishText(rng, 20000),
		"json":       jsonText(rng, 3000),
		"random":     randomBytes(rng, 5000),
		"repetitive": repetitive(rng, 70000),
		"short":      []byte("a short text, a short text"),
		"one":        {'x'},
	}
	for name, in := range inputs {
		for _, level := range []int{BestSpeed, DefaultCompression, BestCompression} {
			for _, before := range []string{"none", "fixed", "stored"} {
				t.Run(fmt.Sprintf("%s/level=%d/%s", name, level, before), func(t *testing.T) {
					w := NewWriter(MaxWindowBits, level)
					stored := -1
					dst := []byte("x")
					switch before {
					case "fixed":
						w.Append(nil, []byte("fixed"), false)
						dst = w.Append(dst, []byte("ab"), false)
						require.True(t, w.inBlock)
					case "stored":
						dst, stored = w.store(dst, []byte("stored"), -1)
					}
					in := in[:min(len(in), cap(w.tokens), int(w.window))]
					start := len(w.hist)
					w.hist = append(w.hist, in...)
					w.encode(start)
					w.endRun()
					var dyn dynamicCode
					costs := w.blockCosts(dst, in, stored, true, &dyn)
					for kind, want := range costs {
						if kind == dynamicBlock && want == costs[fixedBlock]+1 {
							continue // not worked out
						}
						w2 := *w
						d := slices.Clone(dst)
						bits0 := 8*len(d) + int(w2.bb.n)
						d, _ = w2.writeBlock(d, in, stored, kind, &dyn)
						assert.Equal(t, want, 8*len(d)+int(w2.bb.n)-bits0, "kind %d", kind)
					}
				})
			}
		}
	}
}

// TestLevels checks that levels buy ratio: on English text and JSON, each
// of levels 1, 5 and 9 compresses better than the one before, with and
// without context takeover, and that text makes dynamic blocks.
func TestLevels(t *testing.T) {
	rng := newRand(17)
	inputs := map[string][][]byte{
		"english-64KiB": splitEvery(englishText(rng, 8*64<<10), 64<<10),
		"json-1KiB":     splitEvery(jsonText(rng, 64<<10), 1<<10),
	}
	for name, msgs := range inputs {
		for _, reset := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reset=%t", name, reset), func(t *testing.T) {
				var sizes []int
				for _, level := range []int{BestSpeed, DefaultCompression, BestCompression} {
					res := runCalls(t, NewWriter(MaxWindowBits, level), MaxWindowBits, messageCalls(nil, msgs, reset))
					t.Logf("level %d: ratio %.4f", level, float64(len(res.wire))/float64(len(res.stream.out)))
					sizes = append(sizes, len(res.wire))
					if name == "english-64KiB" {
						assert.Contains(t, res.stream.blocks, 2, "dynamic blocks")
					}
				}
				assert.Less(t, sizes[1], sizes[0])
				assert.Less(t, sizes[2], sizes[1])
			})
		}
	}
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
			for _, level := range []int{BestSpeed, BestCompression} {
				w := NewWriter(15, level)
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
		name  string
		bits  int
		level int
		reset bool
	}{
		{"takeover/bits=15", 15, 1, false},
		{"reset/bits=15", 15, 5, true},
		{"takeover/bits=8", 8, 9, false},
		{"takeover/bits=15/level=9", 15, 9, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(tt.bits, tt.level)
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
	return int(unsafe.Sizeof(*w)) + cap(w.hist) + cap(w.table)*int(unsafe.Sizeof(w.table[0])) + cap(w.heads) + cap(w.tokens)*int(unsafe.Sizeof(w.tokens[0]))
}

// TestWriterMemory checks the memory a Writer holds: twice its window, a
// table of at most 16 KiB at level 1 and 64 KiB at level 9 (4 bytes per
// window byte for small windows), and at most 8 KiB of tokens.
func TestWriterMemory(t *testing.T) {
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		for _, level := range []int{BestSpeed, BestCompression} {
			t.Run(fmt.Sprintf("%d/level=%d", bits, level), func(t *testing.T) {
				w := NewWriter(bits, level)
				w.Append(nil, englishText(newRand(9), 100<<10), true)
				mem := writerMemory(w)
				t.Logf("windowBits %d, level %d: %d bytes", bits, level, mem)
				table := 64 << 10
				if level == BestSpeed {
					table = 16 << 10
				}
				assert.LessOrEqual(t, cap(w.table)*4, min(table, 8<<bits))
				assert.LessOrEqual(t, cap(w.tokens)*4, min(8<<10, 8<<bits))
				assert.LessOrEqual(t, cap(w.heads), cap(w.table)/2) // a byte per bucket of 2 ways or more
				assert.LessOrEqual(t, mem, 2<<bits+min(table, 8<<bits)+min(8<<10, 8<<bits)+cap(w.table)/2+1024)
			})
		}
	}
}

// TestZeroWriter checks that a zero Writer works as NewWriter(MaxWindowBits,
// DefaultCompression) does, Reset first or not.
func TestZeroWriter(t *testing.T) {
	msg := englishText(newRand(13), 100<<10)
	want := NewWriter(MaxWindowBits, DefaultCompression).Append(nil, msg, true)
	var w Writer
	assert.Equal(t, want, w.Append(nil, msg, true))
	var r Writer
	r.Reset()
	assert.Equal(t, want, r.Append(nil, msg, true))
	runCalls(t, new(Writer), MaxWindowBits, messageCalls(newRand(14), [][]byte{msg, msg[:5000]}, false))
}

// TestNewWriterClamps checks that windowBits and level out of range are
// clamped, and that level 0 is the default.
func TestNewWriterClamps(t *testing.T) {
	tests := []struct{ in, window int }{{-1, 1 << 8}, {0, 1 << 8}, {7, 1 << 8}, {8, 1 << 8}, {15, 1 << 15}, {16, 1 << 15}, {99, 1 << 15}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			assert.Equal(t, int32(tt.window), NewWriter(tt.in, BestSpeed).window)
			assert.Equal(t, int32(tt.window), NewWriter(tt.in, BestCompression).window)
		})
	}
	msg := jsonText(newRand(18), 20<<10)
	levels := []struct{ in, level int }{{-2, BestSpeed}, {0, DefaultCompression}, {10, BestCompression}, {99, BestCompression}}
	for _, tt := range levels {
		t.Run(fmt.Sprintf("level=%d", tt.in), func(t *testing.T) {
			want := NewWriter(12, tt.level).Append(nil, msg, true)
			assert.Equal(t, want, NewWriter(12, tt.in).Append(nil, msg, true))
		})
	}
}
