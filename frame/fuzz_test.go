package frame

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseHeader checks that any bytes parse without panicking, that
// ParseHeader and ReadHeader agree, and that a header that parses encodes
// back to the same bytes when the input used the minimal length encoding.
func FuzzParseHeader(f *testing.F) {
	for _, ex := range rfcExamples {
		f.Add(ex.wire)
	}
	f.Add([]byte{0x82, 0x7e, 0x01, 0x00})
	f.Add([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4})
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xf3, 0x7d})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		rh, rerr := ReadHeader(bytes.NewReader(b), make([]byte, MaxHeaderSize))
		if err == ErrShortHeader {
			require.Greater(t, n, len(b))
			require.Error(t, rerr)
			return
		}
		require.Equal(t, err, rerr)
		if err != nil {
			return
		}
		require.Equal(t, h, rh)
		require.Equal(t, HeaderSize(b[1]), n)
		if h.Size() == n {
			require.Equal(t, b[:n], AppendHeader(nil, h))
		}
		round, m, err := ParseHeader(AppendHeader(nil, h))
		require.NoError(t, err)
		require.Equal(t, h, round)
		require.Equal(t, h.Size(), m)
	})
}

// FuzzClosePayload checks that any payload parses without panicking and that
// a payload that parses with a status builds back to the same bytes.
func FuzzClosePayload(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add([]byte{0x03, 0xe8})
	f.Add([]byte{0x03, 0xe9, 'b', 'y', 'e'})
	f.Add([]byte{0x03, 0xe8, 0xed, 0xa0, 0x80})
	f.Add([]byte{0x0f, 0xa0, 0xce, 0xba})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			var pe *ViolationError
			require.ErrorAs(t, err, &pe)
			require.True(t, pe.Code == CloseProtocolError || pe.Code == CloseInvalidFramePayloadData)
			return
		}
		if len(p) == 0 {
			require.Equal(t, CloseNoStatusReceived, code)
			return
		}
		if len(reason) > MaxCloseReason {
			return // fine to receive; too long for a control frame we send
		}
		built, err := AppendClosePayload(nil, code, string(reason))
		require.NoError(t, err)
		require.Equal(t, p, built)
	})
}
