package servers

import (
	"context"
	"net"
	"net/http"

	"github.com/db7c6739/ws/wsproto"
)

// serveOurs runs wsproto on its own listener with UpgradeConn rather than
// behind net/http with Upgrade. Once upgraded the two are the same Conn, so
// the echo rate is the same; but UpgradeConn reads the request head with
// handshake.Request.ReadRequest straight off the socket (no http.Request,
// no header map, no net/http goroutine and bufio pair to hijack), which makes
// upgrades cheaper and leaves less behind per idle connection. wsproto's
// own idle benchmark (wsproto/idle_test.go) serves the same way.
//
// Each connection reads with ReadMessage into the slice the previous read
// returned, which allocates nothing in the steady state (wsproto/doc.go),
// and writes with WriteMessage. With -deflate it negotiates
// permessage-deflate without context takeover either way, so that an idle
// connection holds neither compressor nor window.
func serveOurs(ln net.Listener, deflate bool) {
	opts := oursOptions(deflate)
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go oursEcho(nc, opts)
	}
}

func oursEcho(nc net.Conn, opts *wsproto.UpgradeOptions) {
	c, err := wsproto.UpgradeConn(nc, opts)
	if err != nil {
		return
	}
	echoLoop(c)
}

// echoLoop sends every message back until the connection ends.
func echoLoop(c *wsproto.Conn) {
	defer c.CloseNow()
	ctx := context.Background()
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			return
		}
		buf = msg
	}
}

// serveOursHTTP runs wsproto behind net/http, as most servers will: an
// http.Server whose handler is wsproto.Handler, which upgrades each request
// and serves the connection on a goroutine of its own, the way the
// library's documentation teaches (net/http's goroutine for the request
// ends, so an idle connection keeps nothing of it). The echo loop is
// oursEcho's.
func serveOursHTTP(ln net.Listener, deflate bool) {
	opts := oursOptions(deflate)
	srv := &http.Server{Handler: wsproto.Handler(opts, func(c *wsproto.Conn, _ *http.Request) { echoLoop(c) })}
	_ = srv.Serve(ln)
}

// oursOptions negotiates permessage-deflate, with deflate, without context
// takeover either way.
func oursOptions(deflate bool) *wsproto.UpgradeOptions {
	opts := &wsproto.UpgradeOptions{}
	if deflate {
		opts.Compression = &wsproto.CompressionOptions{
			ServerNoContextTakeover: true,
			ClientNoContextTakeover: true,
		}
	}
	return opts
}
