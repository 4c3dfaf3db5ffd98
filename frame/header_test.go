package frame

import (
	"bytes"
	"io"
	"math"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The examples of RFC 6455 §5.7, header plus payload.
var rfcExamples = []struct {
	name    string
	wire    []byte
	header  Header
	payload string
}{
	{
		name:    "unmasked text Hello",
		wire:    []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
		header:  Header{Fin: true, Opcode: OpText, Length: 5},
		payload: "Hello",
	},
	{
		name:    "masked text Hello",
		wire:    []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		header:  Header{Fin: true, Opcode: OpText, Masked: true, Length: 5, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}},
		payload: "Hello",
	},
	{
		name:    "first fragment Hel",
		wire:    []byte{0x01, 0x03, 0x48, 0x65, 0x6c},
		header:  Header{Opcode: OpText, Length: 3},
		payload: "Hel",
	},
	{
		name:    "last fragment lo",
		wire:    []byte{0x80, 0x02, 0x6c, 0x6f},
		header:  Header{Fin: true, Opcode: OpContinuation, Length: 2},
		payload: "lo",
	},
	{
		name:    "unmasked ping Hello",
		wire:    []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
		header:  Header{Fin: true, Opcode: OpPing, Length: 5},
		payload: "Hello",
	},
	{
		name:    "masked pong Hello",
		wire:    []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		header:  Header{Fin: true, Opcode: OpPong, Masked: true, Length: 5, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}},
		payload: "Hello",
	},
}

func TestRFCExamples(t *testing.T) {
	for _, tc := range rfcExamples {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.header.Size()
			assert.Equal(t, tc.wire[:n], AppendHeader(nil, tc.header))

			h, used, err := ParseHeader(tc.wire)
			require.NoError(t, err)
			assert.Equal(t, n, used)
			assert.Equal(t, tc.header, h)

			payload := bytes.Clone(tc.wire[n:])
			if h.Masked {
				Mask(h.Mask, 0, payload)
			}
			assert.Equal(t, tc.payload, string(payload))
		})
	}
}

func TestRFCBinaryHeaders(t *testing.T) {
	// RFC 6455 §5.7: 256 bytes and 64 KiB in a single unmasked binary frame.
	assert.Equal(t, []byte{0x82, 0x7e, 0x01, 0x00},
		AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Length: 256}))
	assert.Equal(t, []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00},
		AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Length: 65536}))
}

func TestLengthBoundaries(t *testing.T) {
	for _, tc := range []struct {
		length int64
		wire   []byte // the length part: byte 1 and the extended length
	}{
		{0, []byte{0}},
		{1, []byte{1}},
		{125, []byte{125}},
		{126, []byte{126, 0, 126}},
		{127, []byte{126, 0, 127}},
		{65535, []byte{126, 0xff, 0xff}},
		{65536, []byte{127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{math.MaxInt64, []byte{127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	} {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Opcode: OpBinary, Length: tc.length, Masked: masked}
			if masked {
				h.Mask = [4]byte{1, 2, 3, 4}
			}
			wire := AppendHeader(nil, h)
			want := append([]byte{0x82}, tc.wire...)
			if masked {
				want[1] |= 0x80
				want = append(want, 1, 2, 3, 4)
			}
			require.Equal(t, want, wire, "length %d masked %v", tc.length, masked)
			require.Equal(t, len(wire), h.Size())

			got, n, err := ParseHeader(wire)
			require.NoError(t, err)
			assert.Equal(t, len(wire), n)
			assert.Equal(t, h, got)

			got, err = ReadHeader(bytes.NewReader(wire), make([]byte, MaxHeaderSize))
			require.NoError(t, err)
			assert.Equal(t, h, got)
		}
	}
}

func TestParseHeaderShort(t *testing.T) {
	wire := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Length: 70000, Masked: true})
	require.Len(t, wire, MaxHeaderSize)
	for i := range len(wire) {
		_, need, err := ParseHeader(wire[:i])
		require.ErrorIs(t, err, ErrShortHeader, "prefix %d", i)
		if i < 2 {
			assert.Equal(t, 2, need)
		} else {
			assert.Equal(t, MaxHeaderSize, need)
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
		err  error
	}{
		{"reserved opcode 3", []byte{0x83, 0x00}, ErrReservedOpcode},
		{"reserved opcode 7", []byte{0x87, 0x00}, ErrReservedOpcode},
		{"reserved control opcode B", []byte{0x8b, 0x00}, ErrReservedOpcode},
		{"reserved control opcode F", []byte{0x8f, 0x00}, ErrReservedOpcode},
		{"fragmented ping", []byte{0x09, 0x00}, ErrFragmentedControl},
		{"fragmented close", []byte{0x08, 0x00}, ErrFragmentedControl},
		{"ping of 126 bytes", []byte{0x89, 126, 0, 126}, ErrControlTooLong},
		{"close of 64 KiB", []byte{0x88, 127, 0, 0, 0, 0, 0, 1, 0, 0}, ErrControlTooLong},
		{"length 2^63", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrLengthOverflow},
		{"length 2^64-1", []byte{0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ErrLengthOverflow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseHeader(tc.wire)
			require.ErrorIs(t, err, tc.err)
			var pe *ViolationError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, CloseProtocolError, pe.Code)

			_, err = ReadHeader(bytes.NewReader(tc.wire), make([]byte, MaxHeaderSize))
			require.ErrorIs(t, err, tc.err)
		})
	}
}

func TestRsvBitsReported(t *testing.T) {
	for _, tc := range []struct {
		b0   byte
		want Header
	}{
		{0xc1, Header{Fin: true, Rsv1: true, Opcode: OpText}},
		{0xa2, Header{Fin: true, Rsv2: true, Opcode: OpBinary}},
		{0x90, Header{Fin: true, Rsv3: true, Opcode: OpContinuation}},
		{0x70, Header{Rsv1: true, Rsv2: true, Rsv3: true}},
	} {
		h, _, err := ParseHeader([]byte{tc.b0, 0})
		require.NoError(t, err)
		assert.Equal(t, tc.want, h)
		assert.Equal(t, []byte{tc.b0, 0}, AppendHeader(nil, h))
	}
}

func TestReadHeaderMisbehavingReaders(t *testing.T) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 1 << 20, Mask: [4]byte{9, 8, 7, 6}}
	wire := append(AppendHeader(nil, h), "payload"...)
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	} {
		t.Run(name, func(t *testing.T) {
			r := bytes.NewReader(wire)
			got, err := ReadHeader(wrap(r), make([]byte, MaxHeaderSize))
			require.NoError(t, err)
			assert.Equal(t, h, got)
			rest, err := io.ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, "payload", string(rest), "ReadHeader must not read past the header")
		})
	}
	t.Run("data with EOF", func(t *testing.T) {
		// The last read returns the final header bytes together with io.EOF.
		got, err := ReadHeader(iotest.DataErrReader(bytes.NewReader(AppendHeader(nil, h))), make([]byte, MaxHeaderSize))
		require.NoError(t, err)
		assert.Equal(t, h, got)
	})
	t.Run("timeout", func(t *testing.T) {
		_, err := ReadHeader(iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(wire))), make([]byte, MaxHeaderSize))
		require.ErrorIs(t, err, iotest.ErrTimeout)
	})
	t.Run("truncated", func(t *testing.T) {
		hw := AppendHeader(nil, h)
		_, err := ReadHeader(bytes.NewReader(nil), make([]byte, MaxHeaderSize))
		require.ErrorIs(t, err, io.EOF)
		for i := 1; i < len(hw); i++ {
			_, err := ReadHeader(bytes.NewReader(hw[:i]), make([]byte, MaxHeaderSize))
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "prefix %d", i)
		}
	})
	t.Run("short scratch", func(t *testing.T) {
		_, err := ReadHeader(bytes.NewReader(wire), make([]byte, 4))
		require.ErrorIs(t, err, ErrShortScratch)
	})
}

func TestHeaderAllocs(t *testing.T) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 70000, Mask: [4]byte{1, 2, 3, 4}}
	buf := make([]byte, 0, MaxHeaderSize)
	wire := AppendHeader(nil, h)
	scratch := make([]byte, MaxHeaderSize)
	r := bytes.NewReader(wire)
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = AppendHeader(buf[:0], h) }), "AppendHeader")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _, _ = ParseHeader(wire) }), "ParseHeader")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		r.Reset(wire)
		_, _ = ReadHeader(r, scratch)
	}), "ReadHeader")
}

func BenchmarkAppendHeader(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 1024, Mask: [4]byte{1, 2, 3, 4}}
	buf := make([]byte, 0, MaxHeaderSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendHeader(buf[:0], h)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	wire := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 1024, Mask: [4]byte{1, 2, 3, 4}})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseHeader(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadHeader(b *testing.B) {
	wire := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Length: 1024, Mask: [4]byte{1, 2, 3, 4}})
	r := bytes.NewReader(wire)
	scratch := make([]byte, MaxHeaderSize)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(wire)
		if _, err := ReadHeader(r, scratch); err != nil {
			b.Fatal(err)
		}
	}
}
