//go:build !js

// Command echo is a WebSocket echo server: every message comes back as it
// went, text as text and binary as binary. It is the target of the Autobahn
// testsuite (testdata/autobahn) and serves a small page at / to try it from a
// browser.
//
//	go run ./examples/echo -addr 127.0.0.1:9001
//
// It speaks HTTP/1.1 and cleartext HTTP/2 (h2c, with prior knowledge) on
// the same port, and WebSockets over both: importing wsproto/xconnect
// turns on the extended CONNECT of RFC 8441 in net/http.
package main

import (
	"context"
	_ "embed"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/db7c6739/ws/wsproto"
	_ "github.com/db7c6739/ws/wsproto/xconnect" // WebSockets over HTTP/2 too
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on")
	readLimit := flag.Int64("read-limit", 32<<20, "largest message accepted, in bytes (Autobahn 9.* sends 16 MiB)")
	noCompression := flag.Bool("no-compression", false, "decline permessage-deflate (RFC 7692)")
	var hb graceful.Heartbeat
	hb.Register(flag.CommandLine)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
	// The heartbeat bounds every read: a client whose network vanished
	// is dropped, not kept forever.
	opts := &wsproto.UpgradeOptions{ReadLimit: *readLimit}
	hb.Apply(opts)
	if !*noCompression {
		opts.Compression = &wsproto.CompressionOptions{}
	}
	log.Info("listening", "addr", "ws://"+ln.Addr().String())
	if err := serve(ctx, ln, newServer(log, opts)); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}

// serve runs s on ln until ctx ends, then closes every WebSocket with 1001
// and returns once all have ended.
func serve(ctx context.Context, ln net.Listener, s *server) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, Protocols: &protocols}
	return graceful.Serve(ctx, srv, ln, func() {
		s.log.Info("shutting down")
		s.conns.CloseAll()
	})
}

// server echoes on every WebSocket request and serves the page otherwise.
type server struct {
	log   *slog.Logger
	conns graceful.Conns
	ws    http.Handler
}

func newServer(log *slog.Logger, opts *wsproto.UpgradeOptions) *server {
	s := &server{log: log}
	// Each connection is served on a goroutine of its own, and net/http's
	// goroutine for the request ends: an idle connection costs a quarter
	// of what it would if served in the handler (wsproto.Handler).
	s.ws = s.conns.Handler(opts, func(c *wsproto.Conn, _ *http.Request) { s.echo(c) })
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") == "" && r.Method != http.MethodConnect { // CONNECT: over HTTP/2
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
		return
	}
	s.ws.ServeHTTP(w, r)
}

// echo sends every message back. It reads each message into the buffer
// of the one before: the buffer grows to the largest message, and while
// the connection waits for the next one, the library keeps a large one
// only as long as the garbage collector lets it (see wsproto's doc).
func (s *server) echo(c *wsproto.Conn) {
	ctx := context.Background()
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf)
		if err != nil {
			s.log.Debug("connection ended", "remote", c.RemoteAddr(), "err", err)
			return
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			s.log.Debug("write failed", "remote", c.RemoteAddr(), "err", err)
			return
		}
		buf = msg
	}
}
