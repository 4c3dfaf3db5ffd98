package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"testing"
)

// benchMessages are the messages of a benchmark: distinct messages of one
// kind, so that context takeover finds what a real stream offers and not
// the same message over and over.
func benchMessages(kind string, size int) [][]byte {
	rng := newRand(10)
	gen := map[string]func(n int) []byte{
		"json":    func(n int) []byte { return jsonText(rng, n) },
		"english": func(n int) []byte { return englishText(rng, n) },
		"random":  func(n int) []byte { return randomBytes(rng, n) },
	}[kind]
	return splitEvery(gen(64*size), size)
}

var benchCases = []struct {
	kind string
	size int
}{
	{"json", 1 << 10},
	{"english", 64 << 10},
	{"random", 64 << 10},
}

// BenchmarkAppend compresses one message per iteration with a Writer,
// under context takeover and with Reset after each message, at levels 1,
// 5 (the default) and 9, and reports the compression ratio (output bytes
// per input byte) beside the speed.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range benchCases {
		msgs := benchMessages(bc.kind, bc.size)
		for _, mode := range []string{"takeover", "reset"} {
			for _, level := range []int{BestSpeed, DefaultCompression, BestCompression} {
				b.Run(fmt.Sprintf("%s-%dKiB/%s/level=%d", bc.kind, bc.size>>10, mode, level), func(b *testing.B) {
					w := NewWriter(MaxWindowBits, level)
					dst := make([]byte, 0, MaxOutput(bc.size))
					in, out := 0, 0
					b.SetBytes(int64(bc.size))
					b.ReportAllocs()
					for i := 0; b.Loop(); i++ {
						m := msgs[i%len(msgs)]
						dst = w.Append(dst[:0], m, true)
						if mode != "takeover" {
							w.Reset()
						}
						in += len(m)
						out += len(dst) - len(syncTail)
					}
					b.ReportMetric(float64(out)/float64(in), "ratio")
				})
			}
		}
	}
}

// BenchmarkFlate is BenchmarkAppend through compress/flate's Writer at
// levels 1 (BestSpeed) and 6 (its default), for comparison: Write and Flush
// per message, after Reset in the "reset" mode.
func BenchmarkFlate(b *testing.B) {
	for _, bc := range benchCases {
		msgs := benchMessages(bc.kind, bc.size)
		for _, mode := range []string{"takeover", "reset"} {
			for _, level := range []int{flate.BestSpeed, 6} {
				b.Run(fmt.Sprintf("%s-%dKiB/%s/level=%d", bc.kind, bc.size>>10, mode, level), func(b *testing.B) {
					var buf bytes.Buffer
					fw, err := flate.NewWriter(&buf, level)
					if err != nil {
						b.Fatal(err)
					}
					in, out := 0, 0
					b.SetBytes(int64(bc.size))
					b.ReportAllocs()
					for i := 0; b.Loop(); i++ {
						m := msgs[i%len(msgs)]
						buf.Reset()
						if mode != "takeover" {
							fw.Reset(&buf)
						}
						if _, err := fw.Write(m); err != nil {
							b.Fatal(err)
						}
						if err := fw.Flush(); err != nil {
							b.Fatal(err)
						}
						in += len(m)
						out += buf.Len() - len(syncTail)
					}
					b.ReportMetric(float64(out)/float64(in), "ratio")
				})
			}
		}
	}
}

// BenchmarkNewWriter measures what a connection pays for its compressor.
func BenchmarkNewWriter(b *testing.B) {
	for _, bits := range []int{MinWindowBits, MaxWindowBits} {
		for _, level := range []int{BestSpeed, BestCompression} {
			b.Run(fmt.Sprintf("%d/level=%d", bits, level), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					NewWriter(bits, level)
				}
			})
		}
	}
	b.Run("flate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = flate.NewWriter(nil, flate.BestSpeed)
		}
	})
}

// BenchmarkInflate inflates one message per iteration, each compressed on
// its own (no context takeover) by compress/flate at its default level, with
// the Inflater and with compress/flate's reader, both reused through Reset:
//
//	go test -run='^$' -bench=Inflate -benchmem ./internal/deflate/
func BenchmarkInflate(b *testing.B) {
	for _, bc := range benchCases[:2] {
		msgs := benchMessages(bc.kind, bc.size)
		var packed [][]byte
		for _, m := range msgs {
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, 6)
			_, _ = fw.Write(m)
			_ = fw.Flush()
			packed = append(packed, append(buf.Bytes(), 1, 0, 0, 0xff, 0xff))
		}
		out := make([]byte, bc.size)
		src := bytes.NewReader(nil)
		name := fmt.Sprintf("%s-%dKiB", bc.kind, bc.size>>10)
		b.Run(name+"/ours", func(b *testing.B) {
			f := NewInflater(nil, nil)
			b.SetBytes(int64(bc.size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				src.Reset(packed[i%len(packed)])
				f.Reset(src, nil)
				if _, err := io.ReadFull(f, out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/compress-flate", func(b *testing.B) {
			fr := flate.NewReader(nil)
			b.SetBytes(int64(bc.size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				src.Reset(packed[i%len(packed)])
				_ = fr.(flate.Resetter).Reset(src, nil)
				if _, err := io.ReadFull(fr, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
