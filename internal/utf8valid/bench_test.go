package utf8valid

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// benchTexts are texts of one kind each, cut to n bytes on a rune
// boundary: ASCII, Cyrillic (2-byte runes), CJK (3), emoji (4), and a mix
// of all four as chat text has.
func benchTexts(n int) map[string][]byte {
	kinds := map[string]string{
		"ascii":    "The quick brown fox jumps over the lazy dog. ",
		"cyrillic": "Съешь же ещё этих мягких французских булок, да выпей чаю. ",
		"cjk":      "我能吞下玻璃而不伤身体。私はガラスを食べられます。",
		"emoji":    "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩",
		"mixed":    "Hi! Привет, 世界 😀 — café, naïve, ∑ 你好 🎉 ok ",
	}
	out := map[string][]byte{}
	for name, s := range kinds {
		t := strings.Repeat(s, n/len(s)+1)
		i := n
		for !utf8.RuneStart(t[i]) {
			i--
		}
		out[name] = []byte(t[:i])
	}
	return out
}

// BenchmarkValid measures every path on each kind of text at 64 B, 1 KiB
// and 64 KiB, against unicode/utf8.Valid:
//
//	go test -run='^$' -bench=Valid ./internal/utf8valid/
func BenchmarkValid(b *testing.B) {
	paths := map[string]func([]byte) bool{
		"utf8.Valid": utf8.Valid,
		"automaton":  func(p []byte) bool { return run(stateAccept, p) == stateAccept },
		"Valid":      Valid,
	}
	for _, v := range vectorPaths() {
		paths[v.name] = v.valid
	}
	for _, n := range []int{64, 1 << 10, 64 << 10} {
		for kind, text := range benchTexts(n) {
			for name, valid := range paths {
				b.Run(fmt.Sprintf("%s/%s/%d", kind, name, n), func(b *testing.B) {
					b.SetBytes(int64(len(text)))
					for b.Loop() {
						if !valid(text) {
							b.Fatal("invalid")
						}
					}
				})
			}
		}
	}
}

// BenchmarkStream checks text as a connection's reads do, in 4 KiB pieces
// that split runes.
func BenchmarkStream(b *testing.B) {
	for kind, text := range benchTexts(64 << 10) {
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				var s Stream
				for p := text; len(p) > 0; {
					k := min(len(p), 4095)
					if !s.Write(p[:k]) {
						b.Fatal("invalid")
					}
					p = p[k:]
				}
				if !s.Complete() {
					b.Fatal("incomplete")
				}
			}
		})
	}
}
