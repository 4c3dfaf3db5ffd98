//go:build !js

package wsproto

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var echoSizes = []int{64, 1 << 10, 64 << 10}

// roundTrip sends msg from the client and reads the server's echo.
func roundTrip(tb testing.TB, client *Conn, msg, buf []byte) []byte {
	ctx := context.Background()
	if err := client.WriteMessage(ctx, MessageBinary, msg); err != nil {
		tb.Fatal(err)
	}
	_, buf, err := client.ReadMessage(ctx, buf)
	if err != nil {
		tb.Fatal(err)
	}
	return buf
}

// TestEchoAllocs pins zero allocations per message in the steady state, on
// both ends: the client writes and reads, the server reads and writes, all in
// this process, so AllocsPerRun counts them all.
func TestEchoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, size := range echoSizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			server, client := pair(t, nil, nil)
			echoLoop(server)
			msg := payload(size, false)
			buf := make([]byte, 0, size)
			for range 10 {
				buf = roundTrip(t, client, msg, buf)
			}
			allocs := testing.AllocsPerRun(200, func() { buf = roundTrip(t, client, msg, buf) })
			assert.Zero(t, allocs)
			require.Equal(t, msg, buf)
		})
	}
}

// BenchmarkEcho measures a round trip through a real loopback socket: the
// client writes a message, the server reads and writes it back, the client
// reads it. Allocations count both ends.
func BenchmarkEcho(b *testing.B) {
	for _, size := range echoSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			server, client := pair(b, nil, nil)
			echoLoop(server)
			msg := payload(size, false)
			buf := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				buf = roundTrip(b, client, msg, buf)
			}
		})
	}
}

// BenchmarkEchoText is BenchmarkEcho with text, which the reader validates.
func BenchmarkEchoText(b *testing.B) {
	for _, size := range echoSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			server, client := pair(b, nil, nil)
			echoLoop(server)
			msg := payload(size, true)
			buf := make([]byte, 0, size)
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := client.WriteMessage(ctx, MessageText, msg); err != nil {
					b.Fatal(err)
				}
				var err error
				if _, buf, err = client.ReadMessage(ctx, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// jsonMessage is a 1 KiB JSON-like message, the shape of a chat or
// dashboard update.
func jsonMessage() []byte {
	var b []byte
	for i := 0; len(b) < 1<<10; i++ {
		b = fmt.Appendf(b, `{"id":%d,"user":"user-%d","room":"general","text":"hello there, how is it going?","ts":17000000%02d},`, i, i%7, i)
	}
	return b[:1<<10]
}

// textMessage is 64 KiB of English-like text.
func textMessage() []byte {
	words := strings.Fields("the quick brown fox jumps over the lazy dog while a websocket carries every message it is given to the other end of the wire and back again")
	rng := rand.New(rand.NewPCG(1, 1))
	var b []byte
	for len(b) < 64<<10 {
		b = append(b, words[rng.IntN(len(words))]...)
		b = append(b, ' ')
	}
	return b[:64<<10]
}

var deflateModes = []struct {
	name string
	opts CompressionOptions
}{
	{"takeover", CompressionOptions{Threshold: -1}},
	{"no-takeover", CompressionOptions{Threshold: -1, ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
}

// TestDeflateEchoAllocs pins zero allocations per compressed message in the
// steady state, on both ends, in both modes.
func TestDeflateEchoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, mode := range deflateModes {
		t.Run(mode.name, func(t *testing.T) {
			server, client := pair(t, &UpgradeOptions{Compression: &mode.opts}, &DialOptions{Compression: &mode.opts})
			echoLoop(server)
			msg := jsonMessage()
			buf := make([]byte, 0, len(msg))
			for range 10 {
				buf = roundTrip(t, client, msg, buf)
			}
			assert.Zero(t, testing.AllocsPerRun(200, func() { buf = roundTrip(t, client, msg, buf) }))
			require.Equal(t, msg, buf)
		})
	}
}

// BenchmarkDeflateEcho is BenchmarkEcho with permessage-deflate: each round
// trip compresses and inflates the message twice. It reports the
// compressed size of one message.
func BenchmarkDeflateEcho(b *testing.B) {
	for _, m := range []struct {
		name string
		msg  []byte
	}{{"json-1KiB", jsonMessage()}, {"text-64KiB", textMessage()}} {
		for _, mode := range deflateModes {
			b.Run(m.name+"/"+mode.name, func(b *testing.B) {
				server, client := pair(b, &UpgradeOptions{Compression: &mode.opts}, &DialOptions{Compression: &mode.opts})
				echoLoop(server)
				buf := make([]byte, 0, len(m.msg))
				b.SetBytes(int64(len(m.msg)))
				b.ReportAllocs()
				for b.Loop() {
					buf = roundTrip(b, client, m.msg, buf)
				}
			})
		}
	}
}

// loopConn serves the same bytes over and over to reads and discards
// writes: a connection without the network, so that the cost of the
// library's own read path shows.
type loopConn struct {
	discard
	data []byte
	off  int
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}

// BenchmarkReadMessage reads masked binary and text messages as a server
// does, from memory: header parsing, unmasking, copying out and, for text,
// UTF-8 checking, with the previous message's slice passed back in.
func BenchmarkReadMessage(b *testing.B) {
	for _, typ := range []MessageType{MessageBinary, MessageText} {
		for _, size := range echoSizes {
			b.Run(fmt.Sprintf("%v/%d", typ, size), func(b *testing.B) {
				// Enough frames that a read never straddles the
				// stream's wrap-around in a way one message could not.
				var wire []byte
				for range max(1, 256<<10/size) {
					wire = append(wire, maskedFrameBytes(true, frame.Opcode(typ), [4]byte{1, 2, 3, 4}, payload(size, typ == MessageText))...)
				}
				c := newConn(&loopConn{data: wire}, false, "", connConfig{}, nil, nil)
				ctx := context.Background()
				var buf []byte
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if _, buf, err = c.ReadMessage(ctx, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkWriteMessage writes binary messages as a server does, to a
// connection that discards them: framing and the write calls.
func BenchmarkWriteMessage(b *testing.B) {
	for _, size := range echoSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			c := discardConn(nil)
			msg := payload(size, false)
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(ctx, MessageBinary, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
