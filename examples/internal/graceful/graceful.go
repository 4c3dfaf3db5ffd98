//go:build !js

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
	ctx     context.Context // ends when CloseAll begins; made on demand
	cancel  context.CancelFunc
}

// Add records c. Once CloseAll has begun it closes c instead, as CloseAll
// would, and returns false: the caller is done with c and does not call
// Remove.
func (cs *Conns) Add(c *wsproto.Conn) bool {
	cs.mu.Lock()
	closing := cs.closing
	if !closing {
		if cs.conns == nil {
			cs.conns = map[*wsproto.Conn]struct{}{}
		}
		cs.conns[c] = struct{}{}
		cs.wg.Add(1)
	}
	cs.mu.Unlock()
	if closing {
		CloseAll([]*wsproto.Conn{c}, func() {})
	}
	return !closing
}

// Closing returns a context that ends when CloseAll begins, for a
// handler's waits other than reads (a read ends when its connection is
// closed).
func (cs *Conns) Closing() context.Context {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.ctx == nil {
		cs.ctx, cs.cancel = context.WithCancel(context.Background())
		if cs.closing {
			cs.cancel()
		}
	}
	return cs.ctx
}

// Handler is wsproto.Handler with the connections recorded: it upgrades
// each request with opts, records the connection while net/http's
// goroutine still runs the handler (so that Serve, which waits for
// handlers, cannot miss it), and serves it on a goroutine of its own,
// which forgets it when serve returns (over HTTP/2, on net/http's, whose
// stream it is). A connection arriving after
// CloseAll began is closed with 1001 and not served.
func (cs *Conns) Handler(opts *wsproto.UpgradeOptions, serve func(c *wsproto.Conn, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wsproto.Upgrade(w, r, opts)
		if err != nil || !cs.Add(c) {
			return
		}
		run := func() {
			defer cs.Remove(c)
			defer c.CloseNow()
			serve(c, r)
		}
		if r.ProtoMajor >= 2 {
			// Over HTTP/2 the WebSocket is a stream of this request,
			// which ends when the handler returns (see wsproto.Handler).
			run()
			return
		}
		go run()
	})
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
	if cs.cancel != nil {
		cs.cancel()
	}
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
	closeWithin(conns, wsproto.CloseGoingAway, "server shutting down")
	wait()
}

// Close closes c with code and reason, and cuts it if its peer has not
// answered within CloseGrace: a peer that never reads cannot hold the
// handler for the close timeout.
func Close(c *wsproto.Conn, code wsproto.CloseCode, reason string) {
	closeWithin([]*wsproto.Conn{c}, code, reason)
}

func closeWithin(conns []*wsproto.Conn, code wsproto.CloseCode, reason string) {
	var closing sync.WaitGroup
	for _, c := range conns {
		closing.Go(func() { _ = c.Close(code, reason) })
	}
	cut := time.AfterFunc(CloseGrace, func() {
		for _, c := range conns {
			_ = c.CloseNow()
		}
	})
	closing.Wait()
	cut.Stop()
}

// Serve serves srv on ln until ctx ends; then it stops accepting, closes
// the connections that have not sent a request yet (browsers open spare
// ones, which http.Server.Shutdown would wait 5 s for), calls
// stopWebSockets at once, waits up to 5 s for plain requests in progress,
// and returns once every handler has returned, those of WebSockets
// included (a handler that upgrades as the shutdown begins finds the
// server closing and closes its connection). If the listener fails it
// returns the error, after closing the server and calling stopWebSockets.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, stopWebSockets func()) error {
	// handlers counts every handler running. http.Server.Shutdown stops
	// counting a connection once it is taken over, but its handler goes
	// on: Serve waits for it here.
	var handlers sync.WaitGroup
	h := srv.Handler
	if h == nil {
		h = http.DefaultServeMux
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		h.ServeHTTP(w, r)
	})
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
		handlers.Wait()
		return err
	}
	_ = srv.Close()
	stopWebSockets()
	handlers.Wait()
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
