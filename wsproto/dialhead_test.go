//go:build !js

package wsproto

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endlessServer answers every handshake with start and then repeat, over and
// over, until the client goes away or limit bytes are out.
func endlessServer(t *testing.T, start, repeat string, limit int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	chunk := []byte(strings.Repeat(repeat, (64<<10)/len(repeat)))
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
					return
				}
				if _, err := nc.Write([]byte(start)); err != nil {
					return
				}
				for sent := 0; sent < limit; sent += len(chunk) {
					if _, err := nc.Write(chunk); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestDialBoundsResponseHead(t *testing.T) {
	const status = "HTTP/1.1 101 Switching Protocols\r\n"
	for _, tc := range []struct {
		name, start, repeat string
		limit               int
	}{
		{"endless header line", status + "X-Junk: ", "x", 0},
		{"endless header lines", status, "X-Junk: y\r\n", 0},
		{"endless status line", "HTTP/1.1 101 ", "x", 0},
		{"endless lines under a small limit", status, "X-Junk: y\r\n", 4 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			addr := endlessServer(t, tc.start, tc.repeat, 256<<20)
			bound := tc.limit
			if bound == 0 {
				bound = DefaultMaxResponseHeaderBytes
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, resp, err := Dial(context.Background(), "ws://"+addr+"/", &DialOptions{MaxResponseHeaderBytes: tc.limit})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			require.ErrorIs(t, err, ErrResponseHeaderTooLarge)
			assert.Nil(t, resp)
			assert.Less(t, took, time.Second, "the head bound, not the handshake timeout, ends it")
			// Parsing what was read allocates a few times its size; the
			// endless stream must not count.
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("refused in %v, having allocated %d bytes", took, allocated)
			assert.Less(t, allocated, uint64(8*bound+256<<10), "Dial allocated %d bytes", allocated)
		})
	}
}

func TestDialContextErrors(t *testing.T) {
	t.Run("handshake times out", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			if nc, err := ln.Accept(); err == nil {
				accepted <- nc // and never answer
			}
		}()
		_, _, err = Dial(context.Background(), "ws://"+ln.Addr().String()+"/", &DialOptions{HandshakeTimeout: 50 * time.Millisecond})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotContains(t, err.Error(), "use of closed network connection")
		(<-accepted).Close()
	})
	t.Run("context ends during the handshake", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		ctx, cancel := context.WithCancel(context.Background())
		accepted := make(chan net.Conn, 1)
		go func() {
			if nc, err := ln.Accept(); err == nil {
				// The request has arrived: the client waits for the
				// answer when the context ends.
				_, _ = http.ReadRequest(bufio.NewReader(nc))
				cancel()
				accepted <- nc
			}
		}()
		_, _, err = Dial(ctx, "ws://"+ln.Addr().String()+"/", nil)
		require.ErrorIs(t, err, context.Canceled)
		(<-accepted).Close()
	})
	t.Run("context ends while dialing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		dialing := make(chan struct{})
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			close(dialing)
			<-ctx.Done()
			return nil, &net.OpError{Op: "dial", Net: network, Err: errOperationCanceled{}}
		}
		go func() { <-dialing; cancel() }()
		_, _, err := Dial(ctx, "ws://127.0.0.1:1/", &DialOptions{NetDialContext: dial})
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("dial times out", func(t *testing.T) {
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			<-ctx.Done()
			// As net.Dialer reports it: not the context's error.
			return nil, &net.OpError{Op: "dial", Net: network, Err: errOperationCanceled{}}
		}
		_, _, err := Dial(context.Background(), "ws://127.0.0.1:1/", &DialOptions{NetDialContext: dial, HandshakeTimeout: 20 * time.Millisecond})
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// errOperationCanceled is how package net words a cancelled dial.
type errOperationCanceled struct{}

func (errOperationCanceled) Error() string { return "operation was canceled" }
