package load

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/db7c6739/ws/bench/internal/servers"
	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func startServer(t *testing.T, lib string, deflate bool) string {
	t.Helper()
	srv, err := servers.Start(lib, "127.0.0.1:0", deflate)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return srv.Addr().String()
}

func proto(lib string) string {
	if lib == "tcp" {
		return "tcp"
	}
	return "ws"
}

// TestEchoEveryLib runs the load generator for a second against every echo
// server, in this process: it must get echoes back and see no error.
func TestEchoEveryLib(t *testing.T) {
	for _, lib := range servers.Libs {
		t.Run(lib, func(t *testing.T) {
			addr := startServer(t, lib, false)
			rec, runErr, err := Run(Config{
				Addr: addr, Proto: proto(lib), Mode: "echo", Conns: 3, InFlight: 4, Size: 1000,
				Duration: time.Second, Warmup: 100 * time.Millisecond, ServerPID: os.Getpid(), Label: lib,
			})
			require.NoError(t, err)
			require.NoError(t, runErr)
			assert.Zero(t, rec.Errors)
			assert.Positive(t, rec.Msgs)
			assert.Positive(t, rec.P50us)
			assert.GreaterOrEqual(t, rec.P99us, rec.P50us)
			assert.Positive(t, rec.LoadCPU)
			assert.Positive(t, rec.RSSAfterKB)
			assert.InDelta(t, rec.MsgsPerSec*1000/1e6, rec.MBPerSec, 0.01)
		})
	}
}

// TestEchoVariants covers text, sizes around the header length boundaries,
// and permessage-deflate, against every server, briefly.
func TestEchoVariants(t *testing.T) {
	variants := []struct {
		name    string
		size    int
		text    bool
		deflate bool
	}{
		{"text-125", 125, true, false},
		{"binary-70000", 70000, false, false},
		{"deflate-1KiB", 1024, false, true},
	}
	for _, lib := range servers.Libs {
		for _, v := range variants {
			t.Run(lib+"/"+v.name, func(t *testing.T) {
				addr := startServer(t, lib, v.deflate)
				rec, runErr, err := Run(Config{
					Addr: addr, Proto: proto(lib), Mode: "echo", Conns: 2, InFlight: 2, Size: v.size,
					Text: v.text, Deflate: v.deflate, Duration: 300 * time.Millisecond, Label: lib,
				})
				require.NoError(t, err)
				require.NoError(t, runErr)
				assert.Zero(t, rec.Errors)
				assert.Positive(t, rec.Msgs)
			})
		}
	}
}

func TestIdleAndUpgradesEveryLib(t *testing.T) {
	for _, lib := range servers.Libs {
		t.Run(lib, func(t *testing.T) {
			addr := startServer(t, lib, false)
			rec, runErr, err := Run(Config{Addr: addr, Proto: proto(lib), Mode: "idle", Conns: 20, ServerPID: os.Getpid(), Label: lib})
			require.NoError(t, err)
			require.NoError(t, runErr)
			assert.EqualValues(t, 20, rec.Handshakes)
			assert.Zero(t, rec.Errors)
			assert.Positive(t, rec.RSSAfterKB)

			rec, runErr, err = Run(Config{Addr: addr, Proto: proto(lib), Mode: "upgrades", Conns: 2, Size: 64,
				Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond, Label: lib})
			require.NoError(t, err)
			require.NoError(t, runErr)
			assert.Zero(t, rec.Errors)
			assert.Positive(t, rec.Handshakes)
			assert.Positive(t, rec.HandshakesPerSec)
		})
	}
}

// TestParseStream feeds the reader a server's stream one byte at a time:
// a ping before the first echo, an echo in three fragments with a pong
// between them, an empty-continuation ending, and a close at the end.
func TestParseStream(t *testing.T) {
	msg := []byte("hello, fragmented world")
	r := &run{proto: "ws", inFlight: 4, size: len(msg), op: frame.OpText, base: time.Now()}
	c := &echoConn{r: r, sentAt: make([]atomic.Int64, 4)}
	var s []byte
	add := func(h frame.Header, p []byte) {
		h.Length = int64(len(p))
		s = append(frame.AppendHeader(s, h), p...)
	}
	add(frame.Header{Fin: true, Opcode: frame.OpPing}, []byte("ping"))
	add(frame.Header{Fin: true, Opcode: frame.OpText}, msg)
	add(frame.Header{Opcode: frame.OpText}, msg[:5])
	add(frame.Header{Fin: true, Opcode: frame.OpPong}, nil)
	add(frame.Header{Opcode: frame.OpContinuation}, msg[5:])
	add(frame.Header{Fin: true, Opcode: frame.OpContinuation}, nil)
	var buf []byte
	start := 0
	for _, b := range s {
		buf = append(buf, b)
		var err error
		start, err = c.parse(buf, start)
		require.NoError(t, err)
	}
	assert.Equal(t, len(buf), start)
	assert.EqualValues(t, 2, c.recv.Load())

	bad := []struct {
		name string
		h    frame.Header
		p    []byte
		want string
	}{
		{"close", frame.Header{Fin: true, Opcode: frame.OpClose}, nil, "close"},
		{"masked", frame.Header{Fin: true, Opcode: frame.OpText, Masked: true}, msg, "masked"},
		{"wrong type", frame.Header{Fin: true, Opcode: frame.OpBinary}, msg, "opcode"},
		{"wrong length", frame.Header{Fin: true, Opcode: frame.OpText}, msg[1:], "bytes"},
		{"stray continuation", frame.Header{Fin: true, Opcode: frame.OpContinuation}, msg, "continuation"},
		{"compressed without deflate", frame.Header{Fin: true, Rsv1: true, Opcode: frame.OpText}, msg, "compressed"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			c := &echoConn{r: r, sentAt: make([]atomic.Int64, 4)}
			tt.h.Length = int64(len(tt.p))
			b := append(frame.AppendHeader(nil, tt.h), tt.p...)
			_, err := c.parse(b, 0)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestTemplateMasksWithFreshKeys(t *testing.T) {
	msg := payload(300, false, false)
	tmpl := newTemplate("ws", msg, frame.OpBinary, false)
	var keys keySource
	a := tmpl.appendTo(nil, &keys)
	b := tmpl.appendTo(nil, &keys)
	for _, f := range [][]byte{a, b} {
		h, n, err := frame.ParseHeader(f)
		require.NoError(t, err)
		require.True(t, h.Masked)
		require.EqualValues(t, len(msg), h.Length)
		p := append([]byte(nil), f[n:]...)
		frame.Mask(h.Mask, 0, p)
		require.Equal(t, msg, p)
	}
	assert.NotEqual(t, a, b, "each frame has its own key")
	assert.Zero(t, testing.AllocsPerRun(100, func() { a = tmpl.appendTo(a[:0], &keys) }))

	tcp := newTemplate("tcp", msg, frame.OpBinary, false)
	assert.Equal(t, []byte{0, 0, 1, 44}, tcp.wire[:4])
}

func TestCompressRoundTrip(t *testing.T) {
	msg := JSONMessage(1024)
	require.Len(t, msg, 1024)
	z, err := compress(msg)
	require.NoError(t, err)
	assert.Less(t, len(z), len(msg)/2, "JSON-like text compresses well")
	got, err := inflate(z)
	require.NoError(t, err)
	assert.Equal(t, msg, got)
}

func TestConfigBounds(t *testing.T) {
	ok := Config{Addr: "x", Proto: "ws", Mode: "echo", Conns: 1, InFlight: 1, Size: 1, Duration: time.Second}
	require.NoError(t, ok.check())
	for i, mut := range []func(*Config){
		func(c *Config) { c.Proto = "udp" },
		func(c *Config) { c.Mode = "flood" },
		func(c *Config) { c.Conns = 0 },
		func(c *Config) { c.Conns = MaxConns + 1 },
		func(c *Config) { c.InFlight = 0 },
		func(c *Config) { c.Duration = 0 },
		func(c *Config) { c.Duration = time.Hour },
		func(c *Config) { c.Size = MaxSize + 1 },
		func(c *Config) { c.Text, c.Deflate = true, true },
	} {
		c := ok
		mut(&c)
		assert.Error(t, c.check(), fmt.Sprint(i))
	}
}

func TestProcReaders(t *testing.T) {
	rss, err := procRSS(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, rss)
	_, err = procCPU(os.Getpid())
	require.NoError(t, err)
	_, err = procRSS(-1)
	assert.Error(t, err)
}

// TestTextMessage: the text scenario's message is valid UTF-8 of exactly
// the size asked, with runes of every length, so that a validator meets
// each kind of sequence.
func TestTextMessage(t *testing.T) {
	for _, n := range []int{0, 1, 64, 1 << 10, 64 << 10} {
		msg := TextMessage(n)
		require.Len(t, msg, n)
		require.True(t, utf8.Valid(msg), "size %d", n)
		if n < 1<<10 {
			continue
		}
		lengths := map[int]bool{}
		for _, r := range string(msg) {
			lengths[utf8.RuneLen(r)] = true
		}
		assert.Equal(t, map[int]bool{1: true, 2: true, 3: true, 4: true}, lengths, "size %d", n)
	}
}
