//go:build !js

package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/require"
)

// scriptedConn is the peer as a script: a net.Conn whose reads return the
// fuzzer's bytes, then io.EOF, and whose writes are recorded. Nothing in it
// blocks, so every input runs to its end at once and the same input always
// gives the same output; real sockets are the hostile-input tests' business.
type scriptedConn struct {
	mu     sync.Mutex
	in     []byte
	out    bytes.Buffer
	closed bool
	// accept, for a client, is replaced in the input by the
	// Sec-WebSocket-Accept that answers the key the client wrote, on the
	// first read: the fuzzer cannot guess a random key.
	accept []byte
}

var acceptPlaceholder = []byte("{accept}")

func (c *scriptedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.accept != nil {
		c.in = bytes.Replace(c.in, acceptPlaceholder, c.accept, 1)
		c.accept = nil
	}
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

var keyHeader = regexp.MustCompile(`(?i)\r\nSec-WebSocket-Key: *([^\r]*)\r\n`)

func (c *scriptedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.out.Write(p)
	if c.accept != nil {
		if m := keyHeader.FindSubmatch(c.out.Bytes()); m != nil {
			c.accept = []byte(handshake.AcceptKey(string(m[1])))
		}
	}
	return len(p), nil
}

// dial is a DialOptions.NetDialContext that connects to the script.
func (c *scriptedConn) dial(context.Context, string, string) (net.Conn, error) { return c, nil }

func (c *scriptedConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

func (c *scriptedConn) output() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

func (*scriptedConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (*scriptedConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
func (*scriptedConn) SetDeadline(t time.Time) error      { return nil }
func (*scriptedConn) SetReadDeadline(t time.Time) error  { return nil }
func (*scriptedConn) SetWriteDeadline(t time.Time) error { return nil }

// run calls f, which must end on its own, within a bound; then checks that
// every goroutine it started has ended.
func run(t *testing.T, f func()) {
	t.Helper()
	before := runtime.NumGoroutine()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection did not end within 5 s")
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before; <-tick.C {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
	}
}

// echo reads messages and writes them back until the connection ends, and
// returns why it ended.
func echo(c *wsproto.Conn) error {
	defer c.CloseNow()
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(context.Background(), buf)
		if err != nil {
			return err
		}
		if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
			return err
		}
		buf = msg
	}
}

// sentCloses parses the frames a Conn wrote after its handshake and returns
// the code of each close frame (CloseNoStatusReceived for an empty one).
func sentCloses(t *testing.T, frames []byte) []frame.CloseCode {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(frames))
	scratch := make([]byte, frame.MaxHeaderSize)
	var codes []frame.CloseCode
	for {
		h, err := frame.ReadHeader(br, scratch)
		if err == io.EOF {
			return codes
		}
		require.NoError(t, err, "our own frames must parse")
		p := make([]byte, h.Length)
		_, err = io.ReadFull(br, p)
		require.NoError(t, err, "our own frames are whole")
		if h.Masked {
			frame.Mask(h.Mask, 0, p)
		}
		if h.Opcode != frame.OpClose {
			continue
		}
		code, _, err := frame.ParseClosePayload(p)
		require.NoError(t, err, "our close frame must be valid")
		if len(p) == 0 {
			code = frame.CloseNoStatusReceived
		}
		codes = append(codes, code)
	}
}

// failCodes are the codes a Conn fails a connection with: RFC 6455 §7.4.1.
var failCodes = map[frame.CloseCode]bool{
	frame.CloseProtocolError:           true,
	frame.CloseInvalidFramePayloadData: true,
	frame.CloseMessageTooBig:           true,
}

// checkEnd checks why a connection ended against the close frames it sent:
// a violation by the peer is answered with the close code of the
// violation, once; the peer's close is echoed with its code; input that
// stops short sends nothing and reports 1006.
func checkEnd(t *testing.T, err error, codes []frame.CloseCode) {
	t.Helper()
	require.ErrorIs(t, err, wsproto.ErrClosed)
	require.LessOrEqual(t, len(codes), 1, "at most one close frame: %v", codes)
	var pe *wsproto.ProtocolError
	var ce *wsproto.CloseError
	switch {
	case errors.As(err, &pe):
		require.True(t, failCodes[pe.Code], "failed with %d: %v", pe.Code, err)
		require.Equal(t, []frame.CloseCode{pe.Code}, codes, "the close code sent says what was wrong: %v", err)
	case errors.As(err, &ce) && ce.Code == frame.CloseAbnormalClosure:
		require.Empty(t, codes, "no close frame when the input stops short")
	case errors.As(err, &ce):
		require.Equal(t, []frame.CloseCode{ce.Code}, codes, "the peer's close code is echoed")
	default:
		t.Fatalf("unexpected end: %v", err)
	}
}

// headerValues returns the values of every header field called name in an
// HTTP head, without their surrounding blanks. Lines may end in a bare LF,
// as RFC 9112 §2.2 lets a recipient accept.
func headerValues(head []byte, name string) []string {
	var values []string
	for _, line := range strings.Split(string(head), "\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(k, name) {
			values = append(values, strings.Trim(v, " \t\r"))
		}
	}
	return values
}

// splitHead splits an HTTP head from what follows it.
func splitHead(b []byte) (head, rest []byte) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if end := i + 1; end < len(b) && b[end] == '\n' {
			return b[:end+1], b[end+1:]
		} else if end+1 < len(b) && b[end] == '\r' && b[end+1] == '\n' {
			return b[:end+2], b[end+2:]
		}
	}
	return b, nil
}
