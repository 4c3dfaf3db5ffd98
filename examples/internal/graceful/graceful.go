// Package graceful is what the example servers share to end well: the
// heartbeat's flags, a record of the open WebSockets, and a Serve that
// stops promptly, telling every WebSocket client 1001 (going away).
package graceful

import (
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/db7c6739/ws/wsproto"
)

// Heartbeat holds the flags -ping-interval and -pong-timeout, the
// heartbeat of every example: a client whose network vanished is dropped
// after Interval+Timeout of silence instead of being kept for ever.
type Heartbeat struct {
	Interval, Timeout time.Duration
}

// Register defines the flags on fs, with defaults for a public server: a
// ping after 30 s of silence, answered within 15 s.
func (h *Heartbeat) Register(fs *flag.FlagSet) {
	fs.DurationVar(&h.Interval, "ping-interval", 30*time.Second, "ping a peer after this long without a frame from it (0: no heartbeat)")
	fs.DurationVar(&h.Timeout, "pong-timeout", 15*time.Second, "close the connection if nothing answers a ping within this long")
}

// Apply turns the heartbeat on in o.
func (h Heartbeat) Apply(o *wsproto.UpgradeOptions) {
	o.PingInterval, o.PingTimeout = h.Interval, h.Timeout
}

// CloseGrace is how long, at shutdown, the clients have to answer the
// server's close frame before their connections are cut: a browser
// answers within a round trip; a peer that does not read never does.
const CloseGrace = 250 * time.Millisecond

// Conns records an example's open WebSockets so that shutdown can close
// them. The zero value is ready to use.
type Conns struct {
	mu      sync.Mutex
	conns   map[*wsproto.Conn]struct{}
	closing bool
	wg      sync.WaitGroup
}

// Add records c. Once CloseAll has begun it closes c instead, as CloseAll
// would, and returns false: the caller is done with c and does not call
// Remove.
func (cs *Conns) Add(c *wsproto.Conn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closing {
		cs.mu.Unlock()
		defer cs.mu.Lock()
		CloseAll([]*wsproto.Conn{c}, func() {})
		return false
	}
	if cs.conns == nil {
		cs.conns = map[*wsproto.Conn]struct{}{}
	}
	cs.conns[c] = struct{}{}
	cs.wg.Add(1)
	return true
}

// Len returns how many connections are recorded.
func (cs *Conns) Len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.conns)
}

// Remove forgets c, once its handler is done with it.
func (cs *Conns) Remove(c *wsproto.Conn) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.conns[c]; ok {
		delete(cs.conns, c)
		cs.wg.Done()
	}
}

// CloseAll refuses new connections, sends every open one a close frame
// with 1001, cuts those whose peers have not answered within CloseGrace,
// and returns once every handler has called Remove.
func (cs *Conns) CloseAll() {
	cs.mu.Lock()
	cs.closing = true
	conns := make([]*wsproto.Conn, 0, len(cs.conns))
	for c := range cs.conns {
		conns = append(conns, c)
	}
	cs.mu.Unlock()
	CloseAll(conns, func() { cs.wg.Wait() })
}

// CloseAll closes conns with 1001, each on a goroutine of its own, and
// cuts those whose peers have not answered within CloseGrace; then it
// calls wait, which returns once the connections' handlers have ended.
func CloseAll(conns []*wsproto.Conn, wait func()) {
	var closing sync.WaitGroup
	for _, c := range conns {
		closing.Go(func() { _ = c.Close(wsproto.CloseGoingAway, "server shutting down") })
	}
	cut := time.AfterFunc(CloseGrace, func() {
		for _, c := range conns {
			_ = c.CloseNow()
		}
	})
	closing.Wait()
	cut.Stop()
	wait()
}

// Serve serves srv on ln until ctx ends; then it stops accepting, closes
// the connections that have not sent a request yet (browsers open spare
// ones, which http.Server.Shutdown would wait 5 s for), waits up to 5 s for
// plain requests in progress, calls stopWebSockets, and returns. It
// returns early with the error if the listener fails.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, stopWebSockets func()) error {
	var fresh unusedConns
	next := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		fresh.track(c, s)
		if next != nil {
			next(c, s)
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut := make(chan struct{})
		go func() { _ = srv.Shutdown(shutdownCtx); close(shut) }()
		// The WebSockets at once, beside Shutdown: the pages hear 1001
		// without waiting for plain requests.
		stopped := make(chan struct{})
		go func() { stopWebSockets(); close(stopped) }()
		fresh.closeAll()
		<-shut
		if err = <-served; errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		<-stopped
		return err
	}
	stopWebSockets()
	return err
}

// unusedConns are the connections that have not sent a request yet, as
// http.Server's ConnState reports them.
type unusedConns struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (u *unusedConns) track(c net.Conn, state http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if state != http.StateNew {
		delete(u.conns, c)
		return
	}
	if u.closed {
		c.Close() // accepted as Shutdown began
		return
	}
	if u.conns == nil {
		u.conns = map[net.Conn]struct{}{}
	}
	u.conns[c] = struct{}{}
}

func (u *unusedConns) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	for c := range u.conns {
		c.Close()
	}
}
