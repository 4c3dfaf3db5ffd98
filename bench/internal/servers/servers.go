// Package servers holds the echo servers the benchmark compares, one file
// per library. Each echoes every message as it came, text as text and
// binary as binary, each in the way its library's documentation recommends
// for speed; the file of each says which document it follows.
package servers

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// Libs lists every server, raw TCP last. ours-http is ours behind
// net/http (wsproto.Handler), where ours has a listener of its own.
var Libs = []string{"ours", "ours-http", "gorilla", "coder", "gobwas", "gws", "tcp"}

// A serveFunc serves ln until it is closed. It returns when Accept fails.
type serveFunc func(ln net.Listener, deflate bool)

var registry = map[string]serveFunc{
	"ours":      serveOurs,
	"ours-http": serveOursHTTP,
	"gorilla":   serveGorilla,
	"coder":     serveCoder,
	"gobwas":    serveGobwas,
	"gws":       serveGWS,
	"tcp":       serveTCP,
}

// Server is an echo server running in this process.
type Server struct {
	ln   net.Listener
	done chan struct{}
}

// Start listens on addr ("127.0.0.1:0" for any port) and serves it with the
// named library's echo server. deflate turns permessage-deflate on where the
// library has it; the tcp server ignores it.
func Start(lib, addr string, deflate bool) (*Server, error) {
	serve, ok := registry[lib]
	if !ok {
		return nil, fmt.Errorf("servers: unknown library %q (want one of %v)", lib, Libs)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: &closeOnce{Listener: ln, closed: make(chan struct{})}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		serve(s.ln, deflate)
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting connections. Connections already open end when
// their clients close them.
func (s *Server) Close() error { return s.ln.Close() }

// closeOnce is a listener whose Accept, once the listener is closed, waits
// for ever instead of failing again at once: gws's Server.RunListener
// retries a failed Accept in a tight loop, and this keeps it parked.
// The other servers return from their loop on the first error as usual,
// because closeOnce reports that first error.
type closeOnce struct {
	net.Listener
	closed   chan struct{}
	once     sync.Once
	reported sync.Once
}

func (l *closeOnce) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		return c, nil
	}
	select {
	case <-l.closed:
		first := false
		l.reported.Do(func() { first = true })
		if !first {
			select {}
		}
		return nil, net.ErrClosed
	default:
		return nil, err
	}
}

func (l *closeOnce) Close() error {
	err := errors.New("servers: listener already closed")
	l.once.Do(func() {
		close(l.closed)
		err = l.Listener.Close()
	})
	return err
}
