package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// call is one Append call of a test stream, optionally followed by Reset.
type call struct {
	p     []byte
	flush bool
	reset bool // Reset after this call; only after a flush
}

// syncTail ends every flush; a receiver appends it back to each message
// (RFC 7692 §7.2.2).
var syncTail = []byte{0x00, 0x00, 0xff, 0xff}

// finalBlock is an empty final stored block: appended to a stream, it ends
// it, so that compress/flate reports io.EOF.
var finalBlock = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

// messageCalls splits each message into chunks of random sizes (zero
// included) if rng is not nil, flushing only at the end of each message and
// resetting after each if reset.
func messageCalls(rng *rand.Rand, msgs [][]byte, reset bool) []call {
	var calls []call
	for _, m := range msgs {
		for rng != nil && len(m) > 0 && rng.IntN(8) != 0 {
			k := rng.IntN(min(len(m), 1+rng.IntN(3000)) + 1)
			calls = append(calls, call{p: m[:k]})
			m = m[k:]
		}
		calls = append(calls, call{p: m, flush: true, reset: reset})
	}
	return calls
}

// result is what runCalls learnt about a stream.
type result struct {
	wire   []byte // the whole stream, 00 00 ff ff after every flush included
	sizes  []int  // output of each flushing call's segment, without 00 00 ff ff
	stream stream // as testInflate decoded it
}

// runCalls feeds calls to w and checks the output three ways: each Append's
// output size against MaxOutput; compress/flate decoding every segment up
// to a flush as soon as it is complete, as a receiver of permessage-deflate
// with context takeover would; and testInflate, which checks that no
// back-reference reaches more than 1<<windowBits back or before the last
// Reset.
func runCalls(t testing.TB, w *Writer, windowBits int, calls []call) result {
	t.Helper()
	require.NotEmpty(t, calls)
	require.True(t, calls[len(calls)-1].flush, "a stream must end with a flush")

	var (
		res    result
		input  []byte
		marks  [][2]int // input length and wire length at each flush
		resets []int    // input length at each Reset, ascending
	)
	prefix := []byte("prefix")
	for _, c := range calls {
		out := w.Append(append([]byte(nil), prefix...), c.p, c.flush)
		require.Equal(t, prefix, out[:len(prefix)], "Append must append to dst")
		out = out[len(prefix):]
		require.LessOrEqual(t, len(out), MaxOutput(len(c.p)), "output for %d bytes", len(c.p))
		res.wire = append(res.wire, out...)
		input = append(input, c.p...)
		if c.flush {
			require.True(t, bytes.HasSuffix(out, syncTail), "a flush must end with 00 00 ff ff")
			segment := 0
			if len(marks) > 0 {
				segment = marks[len(marks)-1][1]
			}
			res.sizes = append(res.sizes, len(res.wire)-segment-len(syncTail))
			marks = append(marks, [2]int{len(input), len(res.wire)})
		}
		if c.reset {
			require.True(t, c.flush)
			w.Reset()
			resets = append(resets, len(input))
		}
	}

	// compress/flate, one segment at a time: a segment must decode in full
	// from its own bytes and those before it, without a byte more. (The
	// sender strips 00 00 ff ff from each message and the receiver appends
	// it back: the same bytes.)
	src := &feed{}
	fr := flate.NewReader(src)
	got := make([]byte, len(input))
	from := 0
	for _, m := range marks {
		src.buf = res.wire[:m[1]]
		_, err := io.ReadFull(fr, got[from:m[0]])
		require.NoError(t, err, "compress/flate reading input bytes %d..%d", from, m[0])
		require.True(t, bytes.Equal(input[from:m[0]], got[from:m[0]]), "compress/flate decoded input bytes %d..%d wrong", from, m[0])
		from = m[0]
	}
	src.buf = append(res.wire[:len(res.wire):len(res.wire)], finalBlock...)
	n, err := io.ReadFull(fr, make([]byte, 1))
	require.Equal(t, 0, n, "compress/flate decoded more than the input")
	require.ErrorIs(t, err, io.EOF)
	require.NoError(t, fr.Close())

	// testInflate, for the back-references.
	res.stream, err = testInflate(res.wire)
	require.NoError(t, err)
	require.False(t, res.stream.final, "Append must never set BFINAL")
	require.True(t, bytes.Equal(input, res.stream.out), "testInflate decoded the input wrong")
	window := 1 << windowBits
	r := 0 // resets[:r] are at or before the current reference
	for _, ref := range res.stream.refs {
		for r < len(resets) && resets[r] <= ref.pos {
			r++
		}
		require.LessOrEqual(t, ref.dist, window, "back-reference at %d beyond the window", ref.pos)
		if r > 0 {
			require.GreaterOrEqual(t, ref.pos-ref.dist, resets[r-1], "back-reference at %d before the Reset at %d", ref.pos, resets[r-1])
		}
	}
	return res
}

// errStarved reports a decoder that wants bytes the sender has not sent.
var errStarved = errors.New("deflate test: decoder read past the bytes sent so far")

// feed is an io.Reader and io.ByteReader over buf, which the test extends
// as the stream grows. compress/flate reads an io.ByteReader byte by byte
// without buffering ahead, so a feed shows exactly how far it reads.
type feed struct {
	buf []byte
	off int
}

func (f *feed) Read(p []byte) (int, error) {
	if f.off == len(f.buf) {
		return 0, errStarved
	}
	n := copy(p, f.buf[f.off:])
	f.off += n
	return n, nil
}

func (f *feed) ReadByte() (byte, error) {
	if f.off == len(f.buf) {
		return 0, errStarved
	}
	f.off++
	return f.buf[f.off-1], nil
}
