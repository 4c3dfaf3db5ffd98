//go:build !js

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
// Over TLS the server speaks HTTP/2 as well as HTTP/1.1, and a browser
// opens the page and its WebSocket on one HTTP/2 connection (RFC 8441).
package main

import (
	"context"
	"crypto/tls"
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

// readLimit bounds an incoming message; its folding may be three times as
// long.
const readLimit = 1 << 20

// upgradeOptions are the server's WebSocket options: a visitor whose
// network vanished is dropped by the heartbeat.
func upgradeOptions(hb graceful.Heartbeat) *wsproto.UpgradeOptions {
	o := &wsproto.UpgradeOptions{ReadLimit: readLimit, Compression: &wsproto.CompressionOptions{}}
	hb.Apply(o)
	return o
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9002", "address to listen on")
	certFile := flag.String("cert", "", "TLS certificate `file` (PEM); with -key, serve https:// and wss://")
	keyFile := flag.String("key", "", "TLS private key `file` (PEM) for -cert")
	selfSigned := flag.Bool("self-signed", false, "serve TLS with a certificate made at startup for localhost, 127.0.0.1 and ::1, valid for a day")
	asciiOnly := flag.Bool("ascii-only", false, "answer ASCII messages only and ignore the others")
	var hb graceful.Heartbeat
	hb.Register(flag.CommandLine)
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
	s := newServer(log, options{AsciiOnly: *asciiOnly, Upgrade: upgradeOptions(hb)})
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
		// HTTP/2 first: browsers then open the page and its WebSocket
		// on one connection (RFC 8441, turned on by wsproto/xconnect).
		cfg = cfg.Clone()
		cfg.NextProtos = []string{"h2", "http/1.1"}
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "page", scheme+"://"+ln.Addr().String()+"/", "ascii-only", s.opts.AsciiOnly)
	return graceful.Serve(ctx, srv, ln, func() {
		log.Info("shutting down")
		s.conns.CloseAll()
	})
}
