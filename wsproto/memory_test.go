package wsproto

import (
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
			assert.Less(t, allocated, tc.bound)
			assert.Equal(t, frame.CloseMessageTooBig, rc.readClose())
		})
	}
}
