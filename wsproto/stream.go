//go:build !js

package wsproto

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Stream returns c as a net.Conn that carries a byte stream, for code that
// wants one (a protocol library, io.Copy): each Write sends its bytes as
// messages of type typ, of at most maxStreamMessage bytes each, and Read
// reads the payloads of the messages that arrive, of either type, one
// after the other, without their boundaries. A close from the peer with
// code 1000 or 1001 reads as io.EOF; Close closes c with 1000.
//
// Deadlines are set on the underlying connection. As with the contexts of
// Conn's own calls, a deadline that passes while a read or write waits
// closes the WebSocket (the stream may be cut mid-frame), and the call
// returns an error whose Timeout method reports true. Read and Write may
// be called at the same time; c must not be read other than through the
// stream.
func (c *Conn) Stream(typ MessageType) net.Conn {
	return &stream{c: c, typ: typ}
}

// maxStreamMessage bounds the messages a stream sends, so that a large
// Write stays under any peer's read limit.
const maxStreamMessage = 1 << 20

type stream struct {
	c   *Conn
	typ MessageType

	mu sync.Mutex // one Read at a time
	r  io.Reader  // the message being read, or nil
}

func (s *stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := context.Background()
	for {
		if s.r == nil {
			_, r, err := s.c.NextReader(ctx)
			if err != nil {
				return 0, streamError(err)
			}
			s.r = r
		}
		n, err := s.r.Read(p)
		if err == io.EOF {
			s.r = nil
			if n == 0 && len(p) > 0 {
				continue
			}
			err = nil
		}
		return n, streamError(err)
	}
}

func (s *stream) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		k := min(len(p)-written, maxStreamMessage)
		if err := s.c.WriteMessage(context.Background(), s.typ, p[written:written+k]); err != nil {
			return written, timeoutAsNetError(err)
		}
		written += k
	}
	return written, nil
}

func (s *stream) Close() error { return s.c.Close(CloseNormalClosure, "") }

func (s *stream) LocalAddr() net.Addr                { return s.c.LocalAddr() }
func (s *stream) RemoteAddr() net.Addr               { return s.c.RemoteAddr() }
func (s *stream) SetDeadline(t time.Time) error      { return s.c.nc.SetDeadline(t) }
func (s *stream) SetReadDeadline(t time.Time) error  { return s.c.nc.SetReadDeadline(t) }
func (s *stream) SetWriteDeadline(t time.Time) error { return s.c.nc.SetWriteDeadline(t) }

// streamError gives a stream's readers the errors a net.Conn's would: io.EOF
// for a normal close, a net.Error whose Timeout is true for a deadline.
func streamError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return timeoutAsNetError(err)
	}
	if code := CloseStatus(err); code == CloseNormalClosure || code == CloseGoingAway {
		var ce *CloseError
		if errors.As(err, &ce) && ce.Err == nil {
			return io.EOF
		}
	}
	return err
}

// timeoutAsNetError turns an error that a deadline caused into one that
// says so as net.Error does, without unwrapping.
func timeoutAsNetError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &timeoutError{err}
	}
	return err
}

// timeoutError is a stream's error for a deadline that passed.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string   { return e.err.Error() }
func (e *timeoutError) Unwrap() error   { return e.err }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
