// Command casefold is a WebSocket server that answers every text message
// with its case-folded form (Unicode full case folding, as Python's
// str.casefold: "Straße" → "strasse"), with a page at / to try it from a
// browser. Binary messages end the connection with close 1003.
//
//	go run ./examples/casefold
//	go run ./examples/casefold -self-signed   # then open https://127.0.0.1:9002/
//
// -cert and -key serve TLS with a certificate of your own; -ascii-only
// answers ASCII messages only, as the tutorial this example comes from did.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/db7c6739/ws/wsproto"
)

// readLimit bounds an incoming message; its folding may be three times as
// long.
const readLimit = 1 << 20

// heartbeat is how long a connection may be quiet before it is pinged, and
// then how long the ping may go unanswered.
const heartbeat = 30 * time.Second

func main() {
	addr := flag.String("addr", "127.0.0.1:9002", "address to listen on")
	certFile := flag.String("cert", "", "TLS certificate `file` (PEM); with -key, serve https:// and wss://")
	keyFile := flag.String("key", "", "TLS private key `file` (PEM) for -cert")
	selfSigned := flag.Bool("self-signed", false, "serve TLS with a certificate made at startup for localhost, 127.0.0.1 and ::1, valid for a day")
	asciiOnly := flag.Bool("ascii-only", false, "answer ASCII messages only and ignore the others")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	cfg, err := tlsConfig(*certFile, *keyFile, *selfSigned)
	if err != nil {
		log.Error("tls", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
	s := newServer(log, options{
		AsciiOnly: *asciiOnly,
		Upgrade: &wsproto.UpgradeOptions{
			ReadLimit:   readLimit,
			Compression: &wsproto.CompressionOptions{},
			// A visitor whose network vanished is dropped after two
			// intervals of silence.
			PingInterval: heartbeat,
		},
	})
	if err := serve(ctx, log, ln, cfg, s); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}

// serve answers on ln, over TLS if cfg is not nil, until ctx is done; then
// it shuts down, tells every WebSocket client that it is going away, and
// returns when their connections have ended.
func serve(ctx context.Context, log *slog.Logger, ln net.Listener, cfg *tls.Config, s *server) error {
	scheme := "http"
	if cfg != nil {
		// The handshake happens here, so HTTP/2 is never offered: a
		// WebSocket needs HTTP/1.1 (RFC 6455 §4.1).
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	shutdown := make(chan struct{})
	go func() {
		defer close(shutdown)
		<-ctx.Done()
		log.Info("shutting down")
		// WebSockets first: Shutdown may wait for a browser's idle
		// preconnection, and the pages should hear 1001 at once.
		s.closeAll()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Info("listening", "page", scheme+"://"+ln.Addr().String()+"/", "ascii-only", s.opts.AsciiOnly)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-shutdown
	s.wait()
	return nil
}
