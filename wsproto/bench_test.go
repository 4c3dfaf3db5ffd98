package wsproto

import (
	"context"
	"fmt"
	"testing"

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
