package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flateInflate is the reference: compress/flate's reader on the same input
// and dictionary, read to the end.
func flateInflate(in, dict []byte) ([]byte, error) {
	r := flate.NewReaderDict(bytes.NewReader(in), dict)
	return io.ReadAll(r)
}

// chunky serves its input in pieces of random sizes, as frames and reads
// cut a message.
type chunky struct {
	in  []byte
	rng *rand.Rand
	max int
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.in), 1+c.rng.IntN(c.max))
	copy(p, c.in[:n])
	c.in = c.in[n:]
	return n, nil
}

// ourInflate reads the whole stream through an Inflater, with Read buffers
// of random sizes.
func ourInflate(f *Inflater, in, dict []byte, rng *rand.Rand, maxPiece int) ([]byte, error) {
	f.Reset(&chunky{in: in, rng: rng, max: maxPiece}, dict)
	var out []byte
	buf := make([]byte, 1+rng.IntN(5000))
	for {
		n, err := f.Read(buf[:1+rng.IntN(len(buf))])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// compressFlate compresses with compress/flate at a level, with a dict.
func compressFlate(t testing.TB, data, dict []byte, level int) []byte {
	var buf bytes.Buffer
	w, err := flate.NewWriterDict(&buf, level, dict)
	require.NoError(t, err)
	// Several writes and flushes, so that streams hold several blocks.
	for len(data) > 0 {
		n := min(len(data), 1+len(data)/3)
		_, err := w.Write(data[:n])
		require.NoError(t, err)
		if n%2 == 0 {
			require.NoError(t, w.Flush())
		}
		data = data[n:]
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// TestInflaterMatchesFlate inflates what compress/flate (every level,
// stored blocks included) and our Writer produce, with and without a
// dictionary, through sources and buffers cut at random, and checks every
// byte against compress/flate's own reader.
func TestInflaterMatchesFlate(t *testing.T) {
	rng := newRand(21)
	f := NewInflater(nil, nil)
	gens := map[string]func(n int) []byte{
		"json":       func(n int) []byte { return jsonText(rng, n) },
		"english":    func(n int) []byte { return englishText(rng, n) },
		"random":     func(n int) []byte { return randomBytes(rng, n) },
		"repetitive": func(n int) []byte { return repetitive(rng, n) },
	}
	for name, gen := range gens {
		for _, size := range []int{0, 1, 100, 1 << 10, 40 << 10, 200 << 10} {
			data := gen(size)
			dict := gen(1 + rng.IntN(40<<10))
			for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
				for _, d := range [][]byte{nil, dict} {
					in := compressFlate(t, data, d, level)
					want, err := flateInflate(in, d)
					require.NoError(t, err)
					got, err := ourInflate(f, in, d, rng, 1+rng.IntN(2000))
					require.NoError(t, err, "%s, %d bytes, level %d", name, size, level)
					require.True(t, bytes.Equal(want, got), "%s, %d bytes, level %d, dict %d", name, size, level, len(d))
				}
			}
			// Our own compressor's output: every block kind it writes.
			for _, level := range []int{BestSpeed, DefaultCompression, BestCompression} {
				w := NewWriter(MaxWindowBits, level)
				in := w.Append(nil, data, true)
				in = append(in, 1, 0, 0, 0xff, 0xff) // a final empty stored block
				got, err := ourInflate(f, in, nil, rng, 64)
				require.NoError(t, err)
				require.True(t, bytes.Equal(data, got), "%s, %d bytes, our level %d", name, size, level)
			}
		}
	}
}

// TestInflaterCorrupt: bad streams fail with ErrCorrupt, and one cut short
// with io.ErrUnexpectedEOF, as compress/flate refuses them.
func TestInflaterCorrupt(t *testing.T) {
	good := compressFlate(t, jsonText(newRand(3), 2000), nil, 6)
	for _, tt := range []struct {
		name string
		in   []byte
		want error
	}{
		{"reserved block type", []byte{0x07}, ErrCorrupt},
		{"stored length check", []byte{0x01, 0x05, 0x00, 0x00, 0x00}, ErrCorrupt},
		{"distance before the start", []byte{0x63, 0x00, 0x42, 0x00}, ErrCorrupt},
		{"cut short", good[:len(good)/2], io.ErrUnexpectedEOF},
		{"empty", nil, io.ErrUnexpectedEOF},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ferr := flateInflate(tt.in, nil)
			require.Error(t, ferr, "compress/flate refuses it too")
			_, err := ourInflate(NewInflater(nil, nil), tt.in, nil, newRand(1), 7)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// TestInflaterIncompleteCodes: in the incomplete codes DEFLATE allows (no
// distance code at all, or a single one of one bit), bits that start no
// code are refused at once as corrupt, as compress/flate refuses them, not
// taken for a longer code that needs more input.
func TestInflaterIncompleteCodes(t *testing.T) {
	for _, in := range [][]byte{
		// A final dynamic block: literal/length codes {256: 0, 257: 1},
		// no distance code, then symbol 257, which needs a distance.
		{0x05, 0xc0, 0x81, 0x08, 0x00, 0x00, 0x00, 0x00, 0x20, 0x7f, 0xeb, 0x2f},
		// The same with a single one-bit distance code, and bit 1.
		{0x05, 0xc0, 0x81, 0x08, 0x00, 0x00, 0x00, 0x00, 0x20, 0x7f, 0xeb, 0x7f},
	} {
		_, ferr := flateInflate(in, nil)
		var corruptInput flate.CorruptInputError
		require.ErrorAs(t, ferr, &corruptInput)
		_, err := ourInflate(NewInflater(nil, nil), in, nil, newRand(1), 100)
		require.ErrorIs(t, err, ErrCorrupt, "% x", in)
	}
}

// emptyReads answers (0, nil) a few times before each piece, as an
// io.Reader may.
type emptyReads struct {
	in    []byte
	calls int
}

func (e *emptyReads) Read(p []byte) (int, error) {
	if e.calls++; e.calls%4 != 0 {
		return 0, nil
	}
	if len(e.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 5)], e.in)
	e.in = e.in[n:]
	return n, nil
}

func TestInflaterEmptyReads(t *testing.T) {
	data := jsonText(newRand(7), 3000)
	in := compressFlate(t, data, nil, 6)
	got, err := io.ReadAll(NewInflater(&emptyReads{in: in}, nil))
	require.NoError(t, err)
	assert.Equal(t, data, got)
}

// TestInflaterWaitsOnlyForWhatItNeeds: a stream that arrives in pieces is
// inflated as far as it has arrived. After a sync flush everything before
// it comes out without the source being read again.
func TestInflaterWaitsOnlyForWhatItNeeds(t *testing.T) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, 6)
	require.NoError(t, err)
	first := jsonText(newRand(4), 3000)
	_, _ = w.Write(first)
	require.NoError(t, w.Flush())
	flushed := append([]byte(nil), buf.Bytes()...)

	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write(flushed) }() // and then nothing, until closed
	f := NewInflater(pr, nil)
	got := make([]byte, len(first))
	_, err = io.ReadFull(f, got)
	require.NoError(t, err)
	assert.Equal(t, first, got)
	pw.CloseWithError(errors.New("no more"))
	_, err = f.Read(got)
	require.EqualError(t, err, "no more", "the source's own error comes through")
}

// TestInflaterAllocs: inflating a message allocates nothing.
func TestInflaterAllocs(t *testing.T) {
	in := compressFlate(t, jsonText(newRand(5), 1<<10), nil, 6)
	f := NewInflater(nil, nil)
	src := bytes.NewReader(in)
	out := make([]byte, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(in)
		f.Reset(src, nil)
		for {
			_, err := f.Read(out)
			if err != nil {
				require.ErrorIs(t, err, io.EOF)
				return
			}
		}
	})
	assert.Zero(t, allocs)

	for _, bad := range [][]byte{{0x07}, {0x01, 0x05, 0x00, 0x00, 0x00}} {
		allocs = testing.AllocsPerRun(100, func() {
			src.Reset(bad)
			f.Reset(src, nil)
			_, err := f.Read(out)
			require.ErrorIs(t, err, ErrCorrupt)
		})
		assert.Zero(t, allocs, "refusing % x allocates nothing either", bad)
	}
}

// TestHuffTableCompleteness: a code must be complete, as compress/flate
// requires, except a single code of length 1; none at all is allowed too.
func TestHuffTableCompleteness(t *testing.T) {
	var h huffTable
	assert.True(t, h.build([]uint8{1, 1}, fastBits))
	assert.True(t, h.build([]uint8{1, 0, 0}, fastBits), "one code of length 1")
	assert.True(t, h.build([]uint8{0, 0}, fastBits), "no code")
	assert.False(t, h.build([]uint8{1, 1, 1}, fastBits), "over-subscribed")
	assert.False(t, h.build([]uint8{2, 2, 2}, fastBits), "incomplete")
	assert.False(t, h.build([]uint8{2}, fastBits), "one code, but of length 2")
	assert.True(t, h.build([]uint8{2, 2, 2, 2}, fastBits))
}

// FuzzInflater feeds arbitrary bytes, with an optional dictionary, to
// both the Inflater and compress/flate: both refuse it, or both inflate it
// to the same bytes. When both refuse, the bytes either produced are one a
// prefix of the other.
func FuzzInflater(f *testing.F) {
	rng := newRand(6)
	for _, level := range []int{0, 1, 6, 9, -2} {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, level)
		_, _ = w.Write(jsonText(rng, 300))
		_ = w.Close()
		f.Add(buf.Bytes(), []byte(nil), uint8(7))
	}
	f.Add([]byte{0x63, 0x00, 0x42, 0x00}, []byte("ab"), uint8(1))
	f.Add([]byte{0x01, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o'}, []byte(nil), uint8(3))
	inf := NewInflater(nil, nil)
	f.Fuzz(func(t *testing.T, in, dict []byte, piece uint8) {
		want, werr := flateInflate(in, dict)
		got, gerr := ourInflate(inf, in, dict, rand.New(rand.NewPCG(uint64(piece), 0)), 1+int(piece))
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("compress/flate: %v; ours: %v", werr, gerr)
		}
		var corruptInput flate.CorruptInputError
		if errors.As(werr, &corruptInput) && !errors.Is(gerr, ErrCorrupt) ||
			errors.Is(werr, io.ErrUnexpectedEOF) && !errors.Is(gerr, io.ErrUnexpectedEOF) {
			t.Fatalf("compress/flate: %v; ours: %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(want, got) {
			t.Fatalf("outputs differ: %d and %d bytes", len(want), len(got))
		}
		if werr != nil {
			n := min(len(want), len(got))
			if !bytes.Equal(want[:n], got[:n]) {
				t.Fatalf("outputs before the error differ")
			}
		}
	})
}
