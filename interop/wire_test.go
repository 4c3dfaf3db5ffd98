//go:build !js

package interop

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/require"
)

var recordDir = flag.String("record", "", "save the bytes each peer client sends to our server after the handshake into `DIR`, one file per subtest (fuzz seeds)")

// tapConn keeps a copy of every byte that crosses a connection, so that
// tests can look at the frames on the wire.
type tapConn struct {
	net.Conn
	mu      sync.Mutex
	in, out []byte
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in = append(c.in, p[:n]...)
	c.mu.Unlock()
	return n, err
}

func (c *tapConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.out = append(c.out, p[:n]...)
	c.mu.Unlock()
	return n, err
}

// streams returns copies of what was read and written so far.
func (c *tapConn) streams() (in, out []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.in), bytes.Clone(c.out)
}

// tapListener wraps each accepted connection in a tapConn.
type tapListener struct{ net.Listener }

func (l tapListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tapConn{Conn: nc}, nil
}

// splitHead splits a stream into its HTTP head (through the blank line) and
// the WebSocket bytes after it.
func splitHead(b []byte) (head, rest []byte) {
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return b, nil
	}
	return b[:i+4], b[i+4:]
}

// responseHeader parses the 101 response at the start of a stream.
func responseHeader(t *testing.T, stream []byte) http.Header {
	t.Helper()
	head, _ := splitHead(stream)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
	require.NoError(t, err, "parse the handshake response %q", head)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	return resp.Header
}

// wireMessage is a data message as it crossed the wire.
type wireMessage struct {
	op      frame.Opcode
	rsv1    bool  // on the first frame: compressed
	frames  int   // data frames
	payload int64 // bytes of payload on the wire, over all its frames
}

// wireFrames lists the frame headers in b (WebSocket bytes, after the
// handshake), stopping at the first incomplete one.
func wireFrames(b []byte) []frame.Header {
	var hs []frame.Header
	for len(b) > 0 {
		h, n, err := frame.ParseHeader(b)
		if err != nil || int64(len(b)-n) < h.Length {
			break
		}
		hs = append(hs, h)
		b = b[n+int(h.Length):]
	}
	return hs
}

// wireMessages groups the data frames of b into messages; control frames
// are left out.
func wireMessages(b []byte) []wireMessage {
	var ms []wireMessage
	for _, h := range wireFrames(b) {
		switch {
		case h.Opcode.IsControl():
		case h.Opcode == frame.OpContinuation && len(ms) > 0:
			m := &ms[len(ms)-1]
			m.frames++
			m.payload += h.Length
		default:
			ms = append(ms, wireMessage{op: h.Opcode, rsv1: h.Rsv1, frames: 1, payload: h.Length})
		}
	}
	return ms
}

// record saves the bytes a peer client sent after the handshake when
// -record is given.
func record(t *testing.T, tap *tapConn) {
	if *recordDir == "" {
		return
	}
	in, _ := tap.streams()
	_, rest := splitHead(in)
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ".bin"
	if err := os.MkdirAll(*recordDir, 0o755); err != nil {
		t.Errorf("record: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(*recordDir, name), rest, 0o644); err != nil {
		t.Errorf("record: %v", err)
	}
}

// tapDialer dials TCP and taps the connection; the tap is sent on taps.
func tapDialer(taps chan<- *tapConn) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &tapConn{Conn: nc}
		taps <- tc
		return tc, nil
	}
}
