//go:build !js

// Command roulette is a chat roulette: each visitor is paired at random with
// another who has no partner, and what one writes only the other reads.
// Next drops the partner for someone else; whoever is left alone waits for
// the next free visitor.
//
//	go run ./examples/roulette
//
// then open http://127.0.0.1:9004/ in two tabs (or more). The page is
// served at / and the socket at /ws, where the protocol is JSON objects
// with a "type":
//
//	client → server  {"type":"message","text":"hi"}  {"type":"next"}
//	server → client  {"type":"waiting"}  {"type":"paired"}
//	                 {"type":"message","text":"hi"}  (from the partner)
//	                 {"type":"left"}  (the partner left or pressed next;
//	                                   waiting or paired follows)
//
// The server speaks only when something changes: a message or next sent
// while waiting is ignored. A text is at most 2000 characters; anything
// that is not one of the two objects above closes the connection with 1008
// (policy violation), a binary message with 1003. A client that does not
// read what it is sent is disconnected. On SIGINT or SIGTERM every client
// is sent close 1001 (going away).
package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/db7c6739/ws/examples/internal/graceful"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9004", "address to listen on")
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
	log.Info("listening", "url", "http://"+ln.Addr().String()+"/")
	if err := serve(ctx, ln, newServer(log, hb)); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}

// serve runs s on ln until ctx ends, then closes every connection with
// 1001 and returns when all have ended. It returns early with the error if
// the listener fails.
func serve(ctx context.Context, ln net.Listener, s *server) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	return graceful.Serve(ctx, srv, ln, func() {
		s.log.Info("shutting down")
		s.conns.CloseAll()
	})
}
