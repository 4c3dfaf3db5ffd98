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
)

// shutdownTimeout bounds the wait for plain HTTP requests at shutdown.
const shutdownTimeout = 5 * time.Second

func main() {
	addr := flag.String("addr", "127.0.0.1:9004", "address to listen on")
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
	if err := serve(ctx, ln, newServer(log)); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}

// serve runs s on ln until ctx ends, then closes every connection with
// 1001 and returns when all have ended. It returns early with the error if
// the listener fails.
func serve(ctx context.Context, ln net.Listener, s *server) error {
	var fresh unusedConns
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnState: fresh.track}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		s.log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		shut := make(chan struct{})
		go func() { _ = srv.Shutdown(shutdownCtx); close(shut) }()
		// Shutdown counts a connection that never sent a request as
		// active for its first 5 s (browsers open such spares): close
		// them, no request is lost.
		fresh.closeAll()
		<-shut
		cancel()
		if err = <-served; errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	s.closeAll()
	s.wait()
	return err
}

// unusedConns are the connections that have not sent a request yet, as
// http.Server's ConnState reports them.
type unusedConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (u *unusedConns) track(c net.Conn, state http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if state == http.StateNew {
		if u.conns == nil {
			u.conns = map[net.Conn]struct{}{}
		}
		u.conns[c] = struct{}{}
		return
	}
	delete(u.conns, c)
}

func (u *unusedConns) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for c := range u.conns {
		c.Close()
	}
}
