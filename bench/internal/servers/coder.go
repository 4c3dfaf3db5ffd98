package servers

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// serveCoder runs coder/websocket behind net/http with websocket.Accept.
// The echo streams each message with Reader and Writer and copies it
// through a reused 32 KiB buffer, as coder's own echo loop does
// (internal/test/wstest/echo.go, EchoLoop): Read would allocate every
// message (io.ReadAll). The buffer is made on the first message, so an idle
// connection does not hold it. The read limit (32 KiB by default) is lifted
// for the 1 MiB scenario. With -deflate, CompressionNoContextTakeover:
// each message is compressed with a pooled flate.Writer and read with a
// pooled flate.Reader (compress.go), messages of 512 bytes or more.
func serveCoder(ln net.Listener, deflate bool) {
	opts := &websocket.AcceptOptions{}
	if deflate {
		opts.CompressionMode = websocket.CompressionNoContextTakeover
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.SetReadLimit(-1)
			// r.Context() is not used: coder's README advises against it
			// after a hijack.
			ctx := context.Background()
			var buf []byte
			for {
				typ, rd, err := c.Reader(ctx)
				if err != nil {
					return
				}
				if buf == nil {
					buf = make([]byte, 32<<10)
				}
				wr, err := c.Writer(ctx, typ)
				if err != nil {
					return
				}
				if _, err := io.CopyBuffer(wr, rd, buf); err != nil {
					return
				}
				if err := wr.Close(); err != nil {
					return
				}
			}
		}),
	}
	_ = srv.Serve(ln)
}
