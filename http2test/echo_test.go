package http2test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEchoOverHTTP2(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, mode, http2Only(echo(nil, nil)))
			c := s.dial(t, "/", nil)
			defer c.CloseNow()
			ctx := context.Background()
			for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
				msg := bytes.Repeat([]byte("ab"), n/2+1)[:n]
				require.NoError(t, c.WriteMessage(ctx, wsproto.MessageBinary, msg))
				typ, got, err := c.ReadMessage(ctx, nil)
				require.NoError(t, err, "size %d", n)
				assert.Equal(t, wsproto.MessageBinary, typ)
				require.True(t, bytes.Equal(msg, got), "size %d", n)
			}
			require.NoError(t, c.WriteMessage(ctx, wsproto.MessageText, []byte(strings.Repeat("é", 1000))))
			typ, got, err := c.ReadMessage(ctx, nil)
			require.NoError(t, err)
			assert.Equal(t, wsproto.MessageText, typ)
			assert.Equal(t, strings.Repeat("é", 1000), string(got))
			require.NoError(t, c.Close(wsproto.CloseNormalClosure, "bye"))

			reqs := s.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, request{"HTTP/2.0", "CONNECT", "websocket"}, reqs[0])
		})
	}
}
