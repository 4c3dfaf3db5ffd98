// Command echo is a WebSocket echo server: every message comes back as it
// went, text as text and binary as binary. It is the target of the Autobahn
// testsuite (testdata/autobahn) and serves a small page at / to try it from a
// browser.
//
//	go run ./examples/echo -addr 127.0.0.1:9001
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/db7c6739/ws/wsproto"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on")
	readLimit := flag.Int64("read-limit", 32<<20, "largest message accepted, in bytes (Autobahn 9.* sends 16 MiB)")
	noCompression := flag.Bool("no-compression", false, "decline permessage-deflate (RFC 7692)")
	ping := flag.Duration("ping", 30*time.Second, "ping a client quiet for this long, and drop it if it does not answer within as long (0: never)")
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
	// is dropped after two intervals of silence, not kept forever.
	opts := &wsproto.UpgradeOptions{ReadLimit: *readLimit, PingInterval: *ping}
	if !*noCompression {
		opts.Compression = &wsproto.CompressionOptions{}
	}
	s := newServer(log, opts)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		s.closeAll()
	}()
	log.Info("listening", "addr", "ws://"+ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
	s.wait()
}

// server echoes on every WebSocket request and serves the page otherwise.
type server struct {
	log   *slog.Logger
	opts  *wsproto.UpgradeOptions
	mu    sync.Mutex
	conns map[*wsproto.Conn]struct{}
	done  *sync.Cond // signalled when the last connection ends
}

func newServer(log *slog.Logger, opts *wsproto.UpgradeOptions) *server {
	s := &server{log: log, opts: opts, conns: map[*wsproto.Conn]struct{}{}}
	s.done = sync.NewCond(&s.mu)
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") == "" {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
		return
	}
	c, err := wsproto.Upgrade(w, r, s.opts)
	if err != nil {
		s.log.Info("upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	s.track(c, true)
	defer s.track(c, false)
	s.echo(c)
}

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

func (s *server) track(c *wsproto.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[c] = struct{}{}
		return
	}
	delete(s.conns, c)
	if len(s.conns) == 0 {
		s.done.Broadcast()
	}
}

// closeAll tells every client the server is going away (close 1001).
func (s *server) closeAll() {
	s.mu.Lock()
	conns := make([]*wsproto.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		go c.Close(wsproto.CloseGoingAway, "server shutting down")
	}
}

// wait returns when no connection is left.
func (s *server) wait() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.conns) > 0 {
		s.done.Wait()
	}
}
