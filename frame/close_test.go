package frame

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCloseCodeValidOnWire(t *testing.T) {
	valid := func(c int) bool {
		return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
	}
	for c := 0; c <= 65535; c++ {
		require.Equal(t, valid(c), CloseCode(c).IsValidOnWire(), "code %d", c)
	}
	for _, c := range []CloseCode{1004, 1005, 1006, 1015, 999, 1016, 2999, 5000} {
		assert.False(t, c.IsValidOnWire(), "code %d", c)
	}
}

func TestCloseCodeString(t *testing.T) {
	assert.Equal(t, "normal closure", CloseNormalClosure.String())
	assert.Equal(t, "invalid frame payload data", CloseInvalidFramePayloadData.String())
	assert.Equal(t, "bad gateway", CloseBadGateway.String())
	assert.Equal(t, "4000", CloseCode(4000).String())
}

func TestClosePayloadRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		code   CloseCode
		reason string
		wire   []byte
	}{
		{CloseNormalClosure, "", []byte{0x03, 0xe8}},
		{CloseGoingAway, "bye", []byte{0x03, 0xe9, 'b', 'y', 'e'}},
		{4999, "κόσμε", append([]byte{0x13, 0x87}, "κόσμε"...)},
		{CloseMessageTooBig, strings.Repeat("x", MaxCloseReason), append([]byte{0x03, 0xf1}, strings.Repeat("x", MaxCloseReason)...)},
	} {
		p, err := AppendClosePayload(nil, tc.code, tc.reason)
		require.NoError(t, err)
		assert.Equal(t, tc.wire, p)
		code, reason, err := ParseClosePayload(p)
		require.NoError(t, err)
		assert.Equal(t, tc.code, code)
		assert.Equal(t, tc.reason, string(reason))
	}
}

func TestAppendClosePayloadErrors(t *testing.T) {
	p, err := AppendClosePayload(nil, CloseNoStatusReceived, "")
	require.NoError(t, err)
	assert.Empty(t, p, "no status means an empty payload")

	for _, tc := range []struct {
		name   string
		code   CloseCode
		reason string
		err    error
	}{
		{"1005 with reason", CloseNoStatusReceived, "x", ErrInvalidCloseCode},
		{"1006", CloseAbnormalClosure, "", ErrInvalidCloseCode},
		{"999", 999, "", ErrInvalidCloseCode},
		{"5000", 5000, "", ErrInvalidCloseCode},
		{"reason too long", CloseNormalClosure, strings.Repeat("x", MaxCloseReason+1), ErrCloseReasonTooLong},
		{"reason not UTF-8", CloseNormalClosure, "\xff", ErrInvalidCloseReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendClosePayload(dst, tc.code, tc.reason)
			require.ErrorIs(t, err, tc.err)
			assert.Equal(t, "keep", string(got))
		})
	}
}

func TestParseClosePayload(t *testing.T) {
	code, reason, err := ParseClosePayload(nil)
	require.NoError(t, err)
	assert.Equal(t, CloseNoStatusReceived, code)
	assert.Empty(t, reason)

	for _, tc := range []struct {
		name string
		p    []byte
		err  error
		send CloseCode
	}{
		{"one byte", []byte{0x03}, ErrCloseTooShort, CloseProtocolError},
		{"code 0", []byte{0, 0}, ErrInvalidCloseCode, CloseProtocolError},
		{"code 999", []byte{0x03, 0xe7}, ErrInvalidCloseCode, CloseProtocolError},
		{"code 1004", []byte{0x03, 0xec}, ErrInvalidCloseCode, CloseProtocolError},
		{"code 1005", []byte{0x03, 0xed}, ErrInvalidCloseCode, CloseProtocolError},
		{"code 1006", []byte{0x03, 0xee}, ErrInvalidCloseCode, CloseProtocolError},
		{"code 1015", []byte{0x03, 0xf7}, ErrInvalidCloseCode, CloseProtocolError},
		{"code 1016", []byte{0x03, 0xf8}, ErrInvalidCloseCode, CloseProtocolError},
		{"code 2999", []byte{0x0b, 0xb7}, ErrInvalidCloseCode, CloseProtocolError},
		{"code 5000", []byte{0x13, 0x88}, ErrInvalidCloseCode, CloseProtocolError},
		{"code 65535", []byte{0xff, 0xff}, ErrInvalidCloseCode, CloseProtocolError},
		{"reason not UTF-8", []byte{0x03, 0xe8, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80}, ErrInvalidCloseReason, CloseInvalidFramePayloadData},
		{"truncated rune", []byte{0x03, 0xe8, 0xce}, ErrInvalidCloseReason, CloseInvalidFramePayloadData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseClosePayload(tc.p)
			require.ErrorIs(t, err, tc.err)
			var pe *ViolationError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.send, pe.Code, "close code to answer with")
		})
	}
}
