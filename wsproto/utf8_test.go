package wsproto

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// completable reports whether p is a prefix of some valid UTF-8 text.
func completable(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	// Find where the last (incomplete) sequence starts.
	start := len(p)
	for k := 1; k <= 3 && len(p)-k >= 0; k++ {
		if utf8.RuneStart(p[len(p)-k]) {
			start = len(p) - k
			break
		}
	}
	if start == len(p) || !utf8.Valid(p[:start]) {
		return false
	}
	tail := p[start:]
	if utf8.FullRune(tail) {
		return false // a complete but invalid sequence
	}
	// Try every second byte; later continuation bytes are unconstrained.
	for b := 0x80; b <= 0xBF; b++ {
		try := append([]byte{}, tail...)
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

// firstBad is the index of the first byte after which the text can no
// longer be valid UTF-8, or -1.
func firstBad(p []byte) int {
	for i := range p {
		if !completable(p[:i+1]) {
			return i
		}
	}
	return -1
}

// randomText makes short byte strings rich in the bytes that matter to a
// UTF-8 validator: valid runes, runes cut short, and bytes that never start
// or continue one.
func randomText(r *rand.Rand) []byte {
	interesting := []byte{0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
		0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF}
	n := r.IntN(40)
	var b []byte
	for range n {
		switch r.IntN(6) {
		case 0:
			b = append(b, byte('a'+r.IntN(26)))
		case 1:
			b = append(b, interesting[r.IntN(len(interesting))])
		case 2:
			b = append(b, byte(r.IntN(256)))
		default:
			// A valid rune, sometimes cut short.
			var rb [4]byte
			ru := rune(r.IntN(0x110000))
			if !utf8.ValidRune(ru) {
				ru = 0xFFFD
			}
			k := utf8.EncodeRune(rb[:], ru)
			if r.IntN(8) == 0 {
				k = r.IntN(k + 1)
			}
			b = append(b, rb[:k]...)
		}
	}
	return b
}

// TestUTF8StreamMatchesStdlib feeds random byte strings to utf8Stream
// in random pieces and checks the verdict against utf8.Valid of the whole,
// and that a failure is reported by the write holding the first byte that
// makes the text impossible to complete (RFC 6455 §8.1, DESIGN.md: "caught as
// soon as the bad byte arrives").
func TestUTF8StreamMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 200000 {
		text := randomText(r)
		bad := firstBad(text)
		// Split at random points.
		var cuts []int
		for i := 1; i < len(text); i++ {
			if r.IntN(4) == 0 {
				cuts = append(cuts, i)
			}
		}
		cuts = append(cuts, len(text))
		var s utf8Stream
		prev := 0
		failedAt := -1 // index of the piece whose write failed
		pieceOf := -1  // index of the piece holding byte bad
		for k, end := range cuts {
			if bad >= prev && bad < end {
				pieceOf = k
			}
			if failedAt < 0 && !s.write(text[prev:end]) {
				failedAt = k
			}
			prev = end
		}
		want := utf8.Valid(text)
		got := failedAt < 0 && s.complete()
		require.Equal(t, want, got, "iteration %d: text %x cuts %v", iter, text, cuts)
		if bad >= 0 {
			require.Equal(t, pieceOf, failedAt, "iteration %d: text %x cuts %v: first impossible byte at %d", iter, text, cuts, bad)
		} else {
			require.Equal(t, -1, failedAt, "iteration %d: text %x cuts %v: valid prefix refused", iter, text, cuts)
		}
	}
}

func FuzzUTF8Stream(f *testing.F) {
	f.Add([]byte("h\xc3\xa9llo"), uint64(3))
	f.Add([]byte("\xf0\x9f\x98\x80\xed\xa0\x80"), uint64(0x5555))
	f.Fuzz(func(t *testing.T, text []byte, splits uint64) {
		var s utf8Stream
		ok := true
		prev := 0
		for i := 1; i <= len(text); i++ {
			if i == len(text) || splits>>(uint(i)%64)&1 == 1 {
				if ok && !s.write(text[prev:i]) {
					ok = false
				}
				prev = i
			}
		}
		if utf8.Valid(text) != (ok && s.complete()) {
			t.Fatalf("text %x: stream says %v", text, ok && s.complete())
		}
	})
}

// BenchmarkUTF8 checks text as reads do, in 4 KiB pieces that split runes,
// against unicode/utf8.Valid on the whole: ASCII, and Greek (2-byte runes).
func BenchmarkUTF8(b *testing.B) {
	texts := map[string][]byte{
		"ascii": []byte(strings.Repeat("the quick brown fox jumps over the lazy dog ", 1500)),
		"greek": []byte(strings.Repeat("αβγδεζηθικλμνξοπρστυφχψω ", 1400)),
	}
	for name, text := range texts {
		b.Run("stream/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				var s utf8Stream
				for p := text; len(p) > 0; {
					k := min(len(p), 4095)
					if !s.write(p[:k]) {
						b.Fatal("invalid")
					}
					p = p[k:]
				}
				if !s.complete() {
					b.Fatal("incomplete")
				}
			}
		})
		b.Run("utf8.Valid/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if !utf8.Valid(text) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
