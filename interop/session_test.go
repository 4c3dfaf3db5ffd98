//go:build !js

package interop

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/require"
)

// direction says which end is ours: "go-server" tests our server with the
// peer's client, "go-client" our client with the peer's server.
type direction struct {
	name     string
	goServer bool
}

var directions = []direction{{"go-server", true}, {"go-client", false}}

// rowConfig sets up both ends of one connection.
type rowConfig struct {
	serverProtocols []string
	clientProtocols []string
	deflate         *deflateConfig // given to both ends; nil: no compression
	peerMaxSize     int            // the peer's message size limit; 0: its default
}

func (d *deflateConfig) options() *wsproto.CompressionOptions {
	if d == nil {
		return nil
	}
	return &wsproto.CompressionOptions{
		ServerNoContextTakeover: d.ServerNoContextTakeover,
		ClientNoContextTakeover: d.ClientNoContextTakeover,
		ServerMaxWindowBits:     d.ServerMaxWindowBits,
		ClientMaxWindowBits:     d.ClientMaxWindowBits,
	}
}

// session is one connection between us and a peer.
type session struct {
	t        *testing.T
	spec     peerSpec
	goServer bool
	c        *wsproto.Conn
	peer     *peerConn
	proc     *peerProc
	tap      *tapConn
	opened   event // the peer's "open" event
	msgs     chan received
	done     chan struct{}
}

// received is the outcome of one ReadMessage.
type received struct {
	typ  wsproto.MessageType
	data []byte
	err  error
}

type tapKey struct{}

// open connects us and the peer process p as dir says.
func open(t *testing.T, ctx context.Context, spec peerSpec, p *peerProc, dir direction, cfg rowConfig) *session {
	t.Helper()
	s := &session{t: t, spec: spec, goServer: dir.goServer, proc: p, peer: p.newConn(t)}
	popts := &peerOpts{Deflate: cfg.deflate, MaxSize: cfg.peerMaxSize}
	if dir.goServer {
		popts.Protocols = cfg.clientProtocols
		s.c, s.tap = s.serve(ctx, cfg, popts)
		t.Cleanup(func() { record(t, s.tap) })
	} else {
		popts.Protocols = cfg.serverProtocols
		s.peer.do(command{Cmd: "listen", Opts: popts})
		port := s.peer.await(ctx, "listening").Port
		taps := make(chan *tapConn, 1)
		c, _, err := wsproto.Dial(ctx, fmt.Sprintf("ws://127.0.0.1:%d/", port), &wsproto.DialOptions{
			Subprotocols:   cfg.clientProtocols,
			Compression:    cfg.deflate.options(),
			NetDialContext: tapDialer(taps),
		})
		require.NoError(t, err, "dial %s's server", spec.name)
		s.c, s.tap = c, <-taps
	}
	t.Cleanup(func() { s.c.CloseNow() })
	s.opened = s.peer.await(ctx, "open")
	return s
}

// serve starts our server, has the peer connect to it and returns our end.
func (s *session) serve(ctx context.Context, cfg rowConfig, popts *peerOpts) (*wsproto.Conn, *tapConn) {
	t := s.t
	type upgraded struct {
		c   *wsproto.Conn
		tap *tapConn
		err error
	}
	ups := make(chan upgraded, 1)
	opts := &wsproto.UpgradeOptions{Subprotocols: cfg.serverProtocols, Compression: cfg.deflate.options()}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tap, _ := r.Context().Value(tapKey{}).(*tapConn)
		c, err := wsproto.Upgrade(w, r, opts)
		ups <- upgraded{c, tap, err}
	}))
	srv.Listener = tapListener{srv.Listener}
	srv.Config.ConnContext = func(ctx context.Context, nc net.Conn) context.Context {
		return context.WithValue(ctx, tapKey{}, nc)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s.peer.do(command{Cmd: "connect", URL: "ws://" + srv.Listener.Addr().String() + "/", Opts: popts})
	select {
	case up := <-ups:
		require.NoError(t, up.err, "upgrade %s's client", s.spec.name)
		return up.c, up.tap
	case <-ctx.Done():
		t.Fatalf("%s's client did not connect: %v", s.spec.name, ctx.Err())
		return nil, nil
	}
}

// startReader reads messages in the background until the connection ends;
// recv returns them. Handlers and the read limit must be set before.
func (s *session) startReader() {
	s.msgs = make(chan received, 64)
	s.done = make(chan struct{})
	s.t.Cleanup(func() { close(s.done) })
	go func() {
		for {
			typ, data, err := s.c.ReadMessage(context.Background(), nil)
			select {
			case s.msgs <- received{typ, data, err}:
			case <-s.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
}

// recv returns what the next read gave.
func (s *session) recv(ctx context.Context) received {
	s.t.Helper()
	if s.msgs == nil {
		s.startReader()
	}
	select {
	case r := <-s.msgs:
		return r
	case <-ctx.Done():
		s.t.Fatalf("no message from %s: %v", s.spec.name, ctx.Err())
		return received{}
	}
}

// recvErr returns the error that ended reading, failing on any message.
func (s *session) recvErr(ctx context.Context) error {
	s.t.Helper()
	r := s.recv(ctx)
	require.Error(s.t, r.err, "want the connection to end, got a %v message of %d bytes", r.typ, len(r.data))
	return r.err
}

// wire returns the WebSocket bytes (after the handshake) that we received
// and sent so far.
func (s *session) wire() (in, out []byte) {
	in, out = s.tap.streams()
	_, in = splitHead(in)
	_, out = splitHead(out)
	return in, out
}

// response returns the headers of the server's 101 response.
func (s *session) response() http.Header {
	in, out := s.tap.streams()
	if s.goServer {
		return responseHeader(s.t, out)
	}
	return responseHeader(s.t, in)
}
