//go:build !js

package wsproto

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Memory a peer decides: these tests send what a hostile or merely large
// peer sends, and measure what the connection allocates or keeps.

// allocatedBy returns the bytes allocated, on any goroutine, while f ran.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBombAllocation sends a 40 MiB deflate bomb to a server whose limit is
// 4 MiB. ReadMessage may grow its buffer up to the limit, and no further:
// all it allocates on the way sums to less than twice the limit. Through
// NextReader, the caller's buffer is all there is: the connection
// allocates a decompressor at most.
func TestBombAllocation(t *testing.T) {
	const limit = 4 << 20
	bomb := maskedRsv1(frameBytes(true, frame.OpBinary, true, deflateRaw(make([]byte, 40<<20))))
	for _, tc := range []struct {
		name  string
		read  func(c *Conn) error
		bound uint64
	}{
		{"ReadMessage", func(c *Conn) error {
			_, _, err := c.ReadMessage(context.Background(), nil)
			return err
		}, 2*limit + 256<<10},
		{"NextReader", func(c *Conn) error {
			_, r, err := c.NextReader(context.Background())
			if err != nil {
				return err
			}
			buf := make([]byte, 32<<10)
			for {
				if _, err := r.Read(buf); err != nil {
					return err
				}
			}
		}, 256 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, conns, _ := listenRaw(t, &UpgradeOptions{ReadLimit: limit, CloseTimeout: 200 * time.Millisecond, Compression: &CompressionOptions{}})
			rc := dialRawWith(t, addr, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
			server := <-conns
			go func() { _, _ = rc.nc.Write(bomb) }()
			var err error
			allocated := allocatedBy(func() { err = tc.read(server) })
			t.Logf("%s allocated %d bytes reading a 40 MiB bomb with a 4 MiB limit", tc.name, allocated)
			require.ErrorIs(t, err, ErrMessageTooBig)
			assert.Equal(t, frame.CloseMessageTooBig, CloseStatus(err))
			if !raceEnabled { // the race detector's build allocates what slices.Grow spares
				assert.Less(t, allocated, tc.bound)
			}
			assert.Equal(t, frame.CloseMessageTooBig, rc.readClose())
		})
	}
}

// TestIdleRetention: a server running the read loop of the package doc
// (the last message passed back in) that received a 30 MiB message, plain
// or compressed, and went idle holds no more than one that received a
// 100-byte message: within a read buffer's size per connection. (With
// context takeover both ways, both hold a compressor and a window, which
// the baseline counts.)
func TestIdleRetention(t *testing.T) {
	const n = 4
	big := bytes.Repeat([]byte("0123456789abcdef"), (30<<20)/16)
	small := big[:100]
	deflate := &CompressionOptions{}
	for _, tc := range []struct {
		name  string
		sopts *UpgradeOptions
		dopts *DialOptions
	}{
		{"plain", nil, nil},
		{"compressed", &UpgradeOptions{Compression: deflate}, &DialOptions{Compression: deflate}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// echoed opens n connections and has each server echo msg
			// through the documented loop, back in its read when this
			// returns.
			echoed := func(msg []byte) {
				ctx := context.Background()
				for range n {
					server, client := pair(t, tc.sopts, tc.dopts)
					require.Equal(t, tc.sopts != nil, server.compress != nil, "compression agreed")
					echoLoop(server)
					require.NoError(t, client.WriteMessage(ctx, MessageBinary, msg))
					_, got, err := client.ReadMessage(ctx, nil)
					require.NoError(t, err)
					require.Len(t, got, len(msg))
					require.Eventually(t, server.readLock.held, 5*time.Second, time.Millisecond, "the server reads again")
				}
			}
			base := heapAfterGC()
			echoed(small)
			afterSmall := heapAfterGC() - base
			echoed(big)
			// A server that has just begun its read may not yet have let
			// go of the message: give it a moment, then judge.
			bound := afterSmall + int64(n*DefaultBufferSize+256<<10)
			var afterBig int64
			assert.Eventually(t, func() bool {
				afterBig = heapAfterGC() - base - afterSmall
				return afterBig < bound
			}, 5*time.Second, 10*time.Millisecond)
			t.Logf("%d connections idle after 100 B hold %d B each; the next %d, after 30 MiB, %d B each", n, afterSmall/n, n, afterBig/n)
			assert.Less(t, afterBig, bound, "after 30 MiB each, %d connections hold %d bytes", n, afterBig)
		})
	}
}
