package servers

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// serveGorilla runs gorilla/websocket behind net/http (it has no raw-conn
// upgrade). Following its package documentation ("Buffers"): buffers of
// 4 KiB each way, the size net/http itself uses, and a WriteBufferPool so
// that "a connection holds the write buffer only when writing a message",
// which its docs recommend for many connections with modest traffic (the
// idle and deflate scenarios). The echo is the NextReader/NextWriter +
// io.Copy loop its docs show for echoing: io.Copy goes through the message
// writer's ReadFrom, straight into the write buffer, with no allocation per
// message, whereas ReadMessage allocates every message (io.ReadAll).
// With -deflate, EnableCompression: gorilla only does permessage-deflate
// without context takeover either way, and compresses every message it
// writes once negotiated.
func serveGorilla(ln net.Listener, deflate bool) {
	up := &websocket.Upgrader{
		ReadBufferSize:    4096,
		WriteBufferSize:   4096,
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: deflate,
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				typ, rd, err := c.NextReader()
				if err != nil {
					return
				}
				wr, err := c.NextWriter(typ)
				if err != nil {
					return
				}
				if _, err := io.Copy(wr, rd); err != nil {
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
