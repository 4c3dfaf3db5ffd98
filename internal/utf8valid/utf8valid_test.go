package utf8valid

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

type vectorPath struct {
	name  string
	valid func([]byte) bool
	take  func() (undo func())
}

// checks are every whole-text check there is on this machine: the
// automaton, each vector path, and Valid as users call it.
func checks() map[string]func([]byte) bool {
	m := map[string]func([]byte) bool{
		"automaton": func(p []byte) bool { return run(stateAccept, p) == stateAccept },
		"Valid":     Valid,
	}
	for _, v := range vectorPaths() {
		m[v.name] = v.valid
	}
	return m
}

// TestTable37 checks every boundary of the well-formed byte sequences of
// the Unicode standard's table 3-7, one byte inside and one outside each
// range, at every offset in a 64-byte block (so across the vector paths'
// lanes and blocks) and at the very end of a text.
func TestTable37(t *testing.T) {
	type seq struct {
		b    []byte
		want bool
	}
	var seqs []seq
	add := func(want bool, bs ...byte) { seqs = append(seqs, seq{bs, want}) }
	// U+0000..U+007F
	add(true, 0x00)
	add(true, 0x7F)
	// U+0080..U+07FF: C2..DF 80..BF
	add(true, 0xC2, 0x80)
	add(true, 0xDF, 0xBF)
	add(false, 0xC0, 0x80) // overlong
	add(false, 0xC1, 0xBF) // overlong
	add(false, 0xC2, 0x7F)
	add(false, 0xC2, 0xC0)
	add(false, 0xC2)
	// U+0800..U+0FFF: E0 A0..BF 80..BF
	add(true, 0xE0, 0xA0, 0x80)
	add(true, 0xE0, 0xBF, 0xBF)
	add(false, 0xE0, 0x9F, 0xBF) // overlong
	add(false, 0xE0, 0x80, 0x80) // overlong
	add(false, 0xE0, 0xA0, 0x7F)
	add(false, 0xE0, 0xA0)
	// U+1000..U+CFFF: E1..EC 80..BF 80..BF
	add(true, 0xE1, 0x80, 0x80)
	add(true, 0xEC, 0xBF, 0xBF)
	add(false, 0xE1, 0x7F, 0x80)
	add(false, 0xEC, 0xC0, 0x80)
	add(false, 0xE1, 0x80, 0xC0)
	// U+D000..U+D7FF: ED 80..9F 80..BF; ED A0..BF are the surrogates
	add(true, 0xED, 0x80, 0x80)
	add(true, 0xED, 0x9F, 0xBF)
	add(false, 0xED, 0xA0, 0x80)                   // U+D800
	add(false, 0xED, 0xBF, 0xBF)                   // U+DFFF
	add(false, 0xED, 0xAF, 0xBF, 0xED, 0xB0, 0x80) // a surrogate pair, CESU-8 style
	// U+E000..U+FFFF: EE..EF 80..BF 80..BF
	add(true, 0xEE, 0x80, 0x80)
	add(true, 0xEF, 0xBF, 0xBF)
	add(false, 0xEF, 0xBF)
	// U+10000..U+3FFFF: F0 90..BF 80..BF 80..BF
	add(true, 0xF0, 0x90, 0x80, 0x80)
	add(true, 0xF0, 0xBF, 0xBF, 0xBF)
	add(false, 0xF0, 0x8F, 0xBF, 0xBF) // overlong
	add(false, 0xF0, 0x80, 0x80, 0x80) // overlong
	add(false, 0xF0, 0x90, 0x80)
	add(false, 0xF0, 0x90, 0x80, 0x7F)
	// U+40000..U+FFFFF: F1..F3 80..BF 80..BF 80..BF
	add(true, 0xF1, 0x80, 0x80, 0x80)
	add(true, 0xF3, 0xBF, 0xBF, 0xBF)
	add(false, 0xF3, 0xBF, 0xBF, 0xC0)
	add(false, 0xF1, 0x80, 0x80, 0x80, 0x80) // a fifth byte
	// U+100000..U+10FFFF: F4 80..8F 80..BF 80..BF
	add(true, 0xF4, 0x80, 0x80, 0x80)
	add(true, 0xF4, 0x8F, 0xBF, 0xBF)
	add(false, 0xF4, 0x90, 0x80, 0x80) // U+110000
	add(false, 0xF4, 0xBF, 0xBF, 0xBF)
	// Bytes that never appear in UTF-8.
	for _, b := range []byte{0x80, 0xBF, 0xC0, 0xC1, 0xF5, 0xF7, 0xF8, 0xFB, 0xFC, 0xFE, 0xFF} {
		add(false, b)
		add(false, b, 0x80, 0x80, 0x80)
	}
	// Five- and six-byte forms of old.
	add(false, 0xF8, 0x88, 0x80, 0x80, 0x80)
	add(false, 0xFC, 0x84, 0x80, 0x80, 0x80, 0x80)

	for name, valid := range checks() {
		for _, s := range seqs {
			require.Equal(t, utf8.Valid(s.b), s.want, "the table itself: % x", s.b)
			for off := range 70 {
				for _, end := range []int{0, 1, 40} {
					text := make([]byte, off+len(s.b)+end)
					for i := range text {
						text[i] = 'a'
					}
					copy(text[off:], s.b)
					require.Equal(t, s.want, valid(text), "%s: % x at offset %d of %d bytes", name, s.b, off, len(text))
				}
			}
		}
	}
}

// TestEveryPair and TestEveryTriple try every two- and three-byte string
// (the triples from a non-ASCII first byte) against unicode/utf8, the pairs
// at every offset of a 64-byte block.
func TestEveryPair(t *testing.T) {
	for name, valid := range checks() {
		text := make([]byte, 70)
		offsets := make([]int, 68)
		for i := range offsets {
			offsets[i] = i
		}
		if raceEnabled {
			offsets = []int{0, 15, 31}
		}
		for _, off := range offsets {
			for i := range text {
				text[i] = ' '
			}
			for x := range 1 << 16 {
				text[off], text[off+1] = byte(x>>8), byte(x)
				if valid(text) != utf8.Valid(text) {
					t.Fatalf("%s: % x at offset %d: got %v", name, text[off:off+2], off, !utf8.Valid(text))
				}
			}
		}
	}
}

func TestEveryTriple(t *testing.T) {
	if raceEnabled {
		t.Skip("16 million texts a path: run without -race, as the README's test command does")
	}
	for name, valid := range checks() {
		offsets := []int{0, 14, 15, 29, 30, 31}
		for _, off := range offsets {
			text := make([]byte, 40)
			for i := range text {
				text[i] = ' '
			}
			for x := 0x800000; x < 1<<24; x++ {
				text[off], text[off+1], text[off+2] = byte(x>>16), byte(x>>8), byte(x)
				if valid(text) != utf8.Valid(text) {
					t.Fatalf("%s: % x at offset %d: got %v", name, text[off:off+3], off, !utf8.Valid(text))
				}
			}
		}
	}
}

// TestRandomTexts checks random texts rich in the bytes that matter, of
// every length up to a few blocks.
func TestRandomTexts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := range 100000 {
		text := randomText(r, 1+r.IntN(200))
		want := utf8.Valid(text)
		for name, valid := range checks() {
			require.Equal(t, want, valid(text), "%s, iteration %d: % x", name, iter, text)
		}
	}
}

// TestStream feeds random texts to a Stream in random pieces, long enough
// that pieces take each vector path, and checks the verdict against
// utf8.Valid of the whole, and that a failure is reported by the write
// whose piece holds the first byte that no valid text could continue with.
func TestStream(t *testing.T) {
	paths := append([]vectorPath{{name: "default", take: func() func() { return func() {} }}}, vectorPaths()...)
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			defer p.take()()
			r := rand.New(rand.NewPCG(1, 2))
			for iter := range 50000 {
				text := randomText(r, 1+r.IntN(300))
				if r.IntN(2) == 0 {
					text = validOnly(text)
				}
				bad := firstBad(text)
				var cuts []int
				for i := 1; i < len(text); i++ {
					if r.IntN(40) == 0 {
						cuts = append(cuts, i)
					}
				}
				cuts = append(cuts, len(text))
				var s Stream
				prev, failedAt, pieceOf := 0, -1, -1
				for k, end := range cuts {
					if bad >= prev && bad < end {
						pieceOf = k
					}
					if failedAt < 0 && !s.Write(text[prev:end]) {
						failedAt = k
					}
					prev = end
				}
				require.Equal(t, utf8.Valid(text), failedAt < 0 && s.Complete(), "iteration %d: % x cuts %v", iter, text, cuts)
				require.Equal(t, pieceOf, failedAt, "iteration %d: % x cuts %v: first impossible byte at %d", iter, text, cuts, bad)
				if failedAt >= 0 {
					require.False(t, s.Write([]byte("a")), "a failed stream stays failed")
				}
			}
		})
	}
}

func TestStreamReset(t *testing.T) {
	var s Stream
	require.True(t, s.Complete(), "the zero Stream is at the start of a text")
	require.True(t, s.Write([]byte{0xE2, 0x82}))
	require.False(t, s.Complete())
	s.Reset()
	require.True(t, s.Complete())
	require.False(t, s.Write([]byte{0xFF}))
	s.Reset()
	require.True(t, s.Write([]byte("€")))
	require.True(t, s.Complete())
}

// FuzzValid checks every path against unicode/utf8.Valid, and a Stream fed
// the input in two pieces split at every point, and in the pieces the
// fuzzer's mask picks.
func FuzzValid(f *testing.F) {
	f.Add([]byte("h\xc3\xa9llo w\xc3\xb6rld, \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80!!"), uint64(3))
	f.Add([]byte("\xf0\x9f\x98\x80\xed\xa0\x80 and some ASCII to fill a block or two........"), uint64(0x5555))
	f.Add([]byte("0123456789abcdef0123456789abcde\xe2\x82\xac0123456789abcdef0123456789abcdef"), uint64(1<<31))
	f.Fuzz(func(t *testing.T, text []byte, mask uint64) {
		want := utf8.Valid(text)
		for name, valid := range checks() {
			if valid(text) != want {
				t.Fatalf("%s(% x) = %v", name, text, !want)
			}
		}
		for i := range len(text) + 1 {
			var s Stream
			ok := s.Write(text[:i])
			ok = s.Write(text[i:]) && ok
			if ok && s.Complete() != want {
				t.Fatalf("split at %d of % x: %v", i, text, !want)
			}
			if !ok && want {
				t.Fatalf("split at %d of % x: refused", i, text)
			}
		}
		var s Stream
		ok, prev := true, 0
		for i := 1; i <= len(text); i++ {
			if i == len(text) || mask>>(uint(i)%64)&1 == 1 {
				ok = s.Write(text[prev:i]) && ok
				prev = i
			}
		}
		if (ok && s.Complete()) != want {
			t.Fatalf("% x in pieces by mask %x: %v", text, mask, !want)
		}
	})
}

// randomText makes texts of about n bytes rich in what matters to a
// validator: runes of every length, runes cut short, and bytes that never
// start or continue one.
func randomText(r *rand.Rand, n int) []byte {
	interesting := []byte{0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
		0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF}
	var b []byte
	for len(b) < n {
		switch r.IntN(40) {
		case 0:
			b = append(b, interesting[r.IntN(len(interesting))])
		case 1:
			b = append(b, byte(r.IntN(256)))
		case 2, 3, 4, 5, 6, 7, 8, 9:
			b = append(b, byte('a'+r.IntN(26)))
		default:
			var rb [4]byte
			ru := rune(r.IntN(0x110000))
			if !utf8.ValidRune(ru) {
				ru = 0xFFFD
			}
			switch r.IntN(4) { // favour short runes, as text does
			case 0:
				ru = rune(0x80 + r.IntN(0x780))
			case 1:
				ru = rune(0x800 + r.IntN(0xD000))
			}
			k := utf8.EncodeRune(rb[:], ru)
			if r.IntN(100) == 0 {
				k = r.IntN(k)
			}
			b = append(b, rb[:k]...)
		}
	}
	return b
}

// validOnly drops the bytes of p that make it invalid.
func validOnly(p []byte) []byte {
	var out []byte
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		if r != utf8.RuneError || n > 1 {
			out = append(out, p[:n]...)
		}
		p = p[n:]
	}
	return out
}

// firstBad is the index of the first byte after which the text can no
// longer be the start of valid UTF-8, or -1.
func firstBad(p []byte) int {
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if r != utf8.RuneError || n > 1 {
			i += n
			continue
		}
		// p[i:] starts with an invalid or incomplete sequence: the first
		// byte no completion allows is where it ends.
		if !utf8.FullRune(p[i:]) && completable(p[i:]) {
			return -1
		}
		return i + prefixLen(p[i:])
	}
	return -1
}

// completable reports whether the incomplete sequence at the start of p is
// the beginning of a valid rune.
func completable(p []byte) bool { return prefixLen(p) == len(p) }

// prefixLen is how many bytes of p, from the start, begin some valid rune:
// the index of the byte that rules every rune out.
func prefixLen(p []byte) int {
	m := 0
	for m < len(p) && m < utf8.UTFMax && begins(p[:m+1]) {
		m++
	}
	return m
}

// begins reports whether some valid rune's encoding starts with p, trying
// every second byte and padding the rest with 0x80 (later continuation
// bytes are unconstrained).
func begins(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for b := 0x80; b <= 0xBF; b++ {
		try := append([]byte{}, p...)
		if len(try) == 1 {
			try = append(try, byte(b))
		}
		for !utf8.FullRune(try) {
			try = append(try, 0x80)
		}
		if utf8.Valid(try) {
			return true
		}
	}
	return false
}

func ExampleStream() {
	var s Stream
	for _, piece := range [][]byte{[]byte("caf\xc3"), []byte("\xa9 au lait")} {
		fmt.Println(s.Write(piece))
	}
	fmt.Println(s.Complete())
	// Output:
	// true
	// true
	// true
}
