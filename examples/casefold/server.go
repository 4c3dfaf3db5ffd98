//go:build !js

package main

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"unicode/utf8"

	"github.com/db7c6739/ws/examples/internal/casefold"
	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/db7c6739/ws/wsproto"
)

var (
	//go:embed index.html
	page []byte
	//go:embed wstest.js
	script []byte
)

// options configures a server.
type options struct {
	// AsciiOnly answers ASCII messages only and ignores the others.
	AsciiOnly bool
	// Upgrade configures the WebSocket connections; nil means the
	// defaults.
	Upgrade *wsproto.UpgradeOptions
}

// server serves the page at /, its script at /wstest.js and the folding
// WebSocket at /ws.
type server struct {
	log   *slog.Logger
	opts  options
	mux   *http.ServeMux
	conns graceful.Conns
}

func newServer(log *slog.Logger, opts options) *server {
	s := &server{log: log, opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /{$}", serveFile("text/html; charset=utf-8", page))
	s.mux.HandleFunc("GET /wstest.js", serveFile("text/javascript; charset=utf-8", script))
	// Each connection is served on a goroutine of its own, and net/http's
	// for the request ends: an idle connection costs a quarter of what it
	// would if served in the handler (see wsproto.Handler).
	s.mux.Handle("/ws", s.conns.Handler(opts.Upgrade, s.serveWS))
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func serveFile(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body)
	}
}

func (s *server) serveWS(c *wsproto.Conn, r *http.Request) {
	s.log.Debug("connected", "remote", r.RemoteAddr)
	err := s.fold(c)
	s.log.Debug("connection ended", "remote", r.RemoteAddr, "code", wsproto.CloseStatus(err), "err", err)
}

// fold answers each text message with its folding until the connection
// ends, and refuses binary messages with close 1003 (RFC 6455 §7.4.1).
func (s *server) fold(c *wsproto.Conn) error {
	ctx := context.Background()
	var in, out []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, in)
		if err != nil {
			return err
		}
		in = msg
		if typ != wsproto.MessageText {
			return c.Close(wsproto.CloseUnsupportedData, "text messages only")
		}
		if s.opts.AsciiOnly && !isASCII(msg) {
			continue
		}
		out = casefold.AppendFold(out[:0], msg)
		if err := c.WriteMessage(ctx, wsproto.MessageText, out); err != nil {
			return err
		}
	}
}

func isASCII(p []byte) bool {
	for _, b := range p {
		if b >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
