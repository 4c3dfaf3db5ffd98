package http2test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// 100 WebSockets on one HTTP/2 connection, their messages interleaved on
// it; one of them is reset in the middle of a message, and the others go
// on undisturbed.
func TestMultiplexed(t *testing.T) {
	const (
		streams  = 100
		messages = 20
		victim   = 37
	)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			checkGoroutines(t)
			ends := make(chan error, streams)
			s := startServer(t, mode, http2Only(echo(nil, ends)))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			conns := make([]*wsproto.Conn, streams)
			for i := range conns {
				conns[i] = s.dial(t, "/", nil)
				defer conns[i].CloseNow()
			}
			assert.Equal(t, int32(1), s.tcp.Load(), "every WebSocket on one TCP connection")

			// The victim starts a message and is reset before its end.
			w, err := conns[victim].NextWriter(ctx, wsproto.MessageBinary)
			require.NoError(t, err)
			_, err = w.Write(bytes.Repeat([]byte("v"), 64<<10))
			require.NoError(t, err)
			require.NoError(t, w.Flush())

			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make([]error, streams)
			for i, c := range conns {
				if i == victim {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = exchange(ctx, c, i, messages)
				}()
			}
			close(start)
			require.NoError(t, conns[victim].CloseNow())
			wg.Wait()
			for i, err := range errs {
				assert.NoError(t, err, "stream %d", i)
			}

			// The victim's server end saw an abrupt end; no other did.
			victimEnd := <-ends
			assert.Equal(t, wsproto.CloseAbnormalClosure, wsproto.CloseStatus(victimEnd), "%v", victimEnd)
			for i, c := range conns {
				if i != victim {
					require.NoError(t, c.Close(wsproto.CloseNormalClosure, ""))
				}
			}
			for range streams - 1 {
				assert.Equal(t, wsproto.CloseNormalClosure, wsproto.CloseStatus(<-ends))
			}
			assert.Equal(t, int32(1), s.tcp.Load(), "still one TCP connection")
		})
	}
}

// exchange sends n messages on c, each read back before the next, sizes
// varying so that frames of different streams interleave on the wire.
func exchange(ctx context.Context, c *wsproto.Conn, id, n int) error {
	for j := range n {
		msg := bytes.Repeat([]byte(fmt.Sprintf("%d/%d;", id, j)), 1+(id*j)%700)
		if err := c.WriteMessage(ctx, wsproto.MessageBinary, msg); err != nil {
			return err
		}
		_, got, err := c.ReadMessage(ctx, nil)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("message %d came back as %d different bytes", j, len(got))
		}
	}
	return nil
}
