//go:build !js

package wsproto

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feedConn is a connection whose reads serve a fixed byte string, at most
// chunk() bytes at a time if chunk is set, and count themselves; writes are
// discarded.
type feedConn struct {
	discard
	data  []byte
	chunk func() int
	reads int
}

func (c *feedConn) Read(p []byte) (int, error) {
	c.reads++
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if c.chunk != nil {
		n = min(n, c.chunk())
	}
	n = copy(p[:n], c.data)
	c.data = c.data[n:]
	return n, nil
}

// wireFrame encodes a frame as the peer of role client would send it:
// masked to a server, plain to a client.
func wireFrame(toClient, fin bool, op frame.Opcode, key [4]byte, payload []byte) []byte {
	if toClient {
		return frameBytes(fin, op, false, payload)
	}
	return maskedFrameBytes(fin, op, key, payload)
}

// TestLargeMessagesTwoReadsEach: with the buffer of the previous message
// passed back in, a stream of large messages costs two reads each: the wait
// at the message boundary reads into the connection's small buffer (the
// caller's may be large and is not held then, see awaitData), the rest of
// the payload goes straight into the caller's buffer.
func TestLargeMessagesTwoReadsEach(t *testing.T) {
	for _, toClient := range []bool{false, true} {
		for _, size := range []int{4096, 64 << 10, 1 << 20} {
			msg := bytes.Repeat([]byte("0123456789abcdef"), size/16)
			var wire []byte
			const n = 20
			for i := range n {
				wire = append(wire, wireFrame(toClient, true, frame.OpBinary, [4]byte{byte(i), 2, 3, 4}, msg)...)
			}
			nc := &feedConn{data: wire}
			c := newConn(nc, toClient, "", connConfig{}, nil, nil)
			var buf []byte
			for i := range n {
				typ, got, err := c.ReadMessage(context.Background(), buf)
				require.NoError(t, err)
				require.Equal(t, MessageBinary, typ)
				require.True(t, bytes.Equal(msg, got), "client %v size %d message %d", toClient, size, i)
				buf = got
			}
			// The first message takes a read for its header and one per
			// doubling of the buffer; every later one takes two.
			assert.LessOrEqual(t, nc.reads, 2*n+6, "client %v size %d: reads for %d messages", toClient, size, n)
		}
	}
}

// TestReadStreams runs streams that change pace around reads into the
// caller's buffer: a large message then many small ones in the same read
// (the leftover outgrows a pooled buffer), a larger one than the last,
// a smaller one, control frames and fragments, text with a rune across
// frames; each through reads of every size and of random sizes, in both
// roles, with the buffer passed back in.
func TestReadStreams(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	text := bytes.Repeat([]byte("αβγδ"), 20000) // 160,000 bytes
	type part struct {
		op   frame.Opcode
		fin  bool
		data []byte
	}
	var msgs []streamMsg
	var parts []part
	add := func(typ MessageType, data []byte, frags ...int) {
		msgs = append(msgs, streamMsg{typ, data})
		op := frame.Opcode(typ)
		for _, k := range frags {
			parts = append(parts, part{op, false, data[:k]})
			data, op = data[k:], frame.OpContinuation
		}
		parts = append(parts, part{op, true, data})
	}
	ping := func() { parts = append(parts, part{frame.OpPing, true, []byte("are you there")}) }
	add(MessageBinary, big)
	add(MessageBinary, big)
	for i := range 300 {
		add(MessageText, fmt.Appendf(nil, "small message number %d", i))
	}
	add(MessageBinary, big)
	add(MessageBinary, big)
	ping()
	add(MessageBinary, append(big, big...)) // larger than the last
	add(MessageBinary, big[:5000])          // smaller
	add(MessageBinary, big[:5000])
	add(MessageText, text, 3, 70001) // fragments cut inside runes
	add(MessageText, text)
	ping()
	add(MessageText, text)
	add(MessageBinary, big[:10000], 4000)
	add(MessageBinary, nil)
	add(MessageBinary, big)

	for _, toClient := range []bool{false, true} {
		var wire []byte
		for i, p := range parts {
			wire = append(wire, wireFrame(toClient, p.fin, p.op, [4]byte{byte(i), byte(i >> 8), 0x5a, 0xa5}, p.data)...)
		}
		chunks := map[string]func() int{
			"whole":  nil,
			"1000":   func() int { return 1000 },
			"random": func() int { return 1 + r.IntN(20000) },
			"tiny":   func() int { return 1 + r.IntN(7) },
		}
		for name, chunk := range chunks {
			c := newConn(&feedConn{data: wire, chunk: chunk}, toClient, "", connConfig{}, nil, nil)
			var buf []byte
			for i, m := range msgs {
				typ, got, err := c.ReadMessage(context.Background(), buf)
				require.NoError(t, err, "client %v reads %s message %d", toClient, name, i)
				require.Equal(t, m.typ, typ)
				require.True(t, bytes.Equal(m.data, got), "client %v reads %s message %d", toClient, name, i)
				buf = got
			}
			_, _, err := c.ReadMessage(context.Background(), buf)
			assert.Error(t, err, "the stream is over")
		}
	}
}

// TestLargeReadInvalidUTF8: text that stops being UTF-8 in the part of a
// large message read straight into the caller's buffer fails with 1007.
func TestLargeReadInvalidUTF8(t *testing.T) {
	good := bytes.Repeat([]byte("a"), 64<<10)
	bad := append([]byte(nil), good...)
	bad[40000] = 0xff
	wire := append(maskedFrameBytes(true, frame.OpText, [4]byte{1, 2, 3, 4}, good),
		maskedFrameBytes(true, frame.OpText, [4]byte{5, 6, 7, 8}, bad)...)
	c := newConn(&feedConn{data: wire}, false, "", connConfig{}, nil, nil)
	_, buf, err := c.ReadMessage(context.Background(), nil)
	require.NoError(t, err)
	_, _, err = c.ReadMessage(context.Background(), buf)
	assert.ErrorIs(t, err, ErrInvalidUTF8)
	var pe *ProtocolError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, frame.CloseInvalidFramePayloadData, pe.Code)
}
