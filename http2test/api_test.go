package http2test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rest of the API above the transport works over HTTP/2 as over
// HTTP/1.1: prepared messages (plain and compressed), the JSON helpers, the
// net.Conn view with a deadline, CloseRead, the subprotocol and addresses.
func TestAPIOverHTTP2(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			checkGoroutines(t)
			z := &wsproto.CompressionOptions{Threshold: -1}
			server, client, _ := pair(t, mode,
				&wsproto.UpgradeOptions{Subprotocols: []string{"chat.v2"}, Compression: z},
				&wsproto.DialOptions{Subprotocols: []string{"chat.v1", "chat.v2"}, Compression: z})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.Equal(t, "chat.v2", server.Subprotocol())
			assert.Equal(t, "chat.v2", client.Subprotocol())
			assert.Equal(t, client.LocalAddr().String(), server.RemoteAddr().String(), "addresses of the TCP connection under the stream")

			// Prepared messages, encoded once, compressed for this conn.
			pm, err := wsproto.NewPreparedMessage(wsproto.MessageText, []byte(strings.Repeat("prepared ", 100)))
			require.NoError(t, err)
			for range 3 {
				require.NoError(t, server.WritePrepared(ctx, pm))
				_, got, err := client.ReadMessage(ctx, nil)
				require.NoError(t, err)
				assert.Equal(t, strings.Repeat("prepared ", 100), string(got))
			}

			// JSON both ways.
			type note struct{ From, Text string }
			require.NoError(t, client.WriteJSON(ctx, note{"client", "hello"}))
			var n note
			require.NoError(t, server.ReadJSON(ctx, &n))
			assert.Equal(t, note{"client", "hello"}, n)

			// The net.Conn view: bytes across messages, a deadline.
			ss, cs := server.Stream(wsproto.MessageBinary), client.Stream(wsproto.MessageBinary)
			go func() {
				_, _ = io.WriteString(cs, "a byte stream ")
				_, _ = io.WriteString(cs, "over messages")
			}()
			require.NoError(t, ss.SetReadDeadline(time.Now().Add(5*time.Second)))
			buf := make([]byte, len("a byte stream over messages"))
			_, err = io.ReadFull(ss, buf)
			require.NoError(t, err)
			assert.Equal(t, "a byte stream over messages", string(buf))
			require.NoError(t, ss.SetReadDeadline(time.Time{}))

			// CloseRead on a server that only writes: it sees the
			// client's close.
			done := server.CloseRead(ctx)
			require.NoError(t, server.WriteMessage(ctx, wsproto.MessageText, []byte("last words")))
			_, got, err := client.ReadMessage(ctx, nil)
			require.NoError(t, err)
			assert.Equal(t, "last words", string(got))
			require.NoError(t, client.Close(wsproto.CloseNormalClosure, ""))
			<-done.Done()
			assert.ErrorIs(t, server.WriteMessage(ctx, wsproto.MessageText, []byte("late")), wsproto.ErrClosed)
		})
	}
}
