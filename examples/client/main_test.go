//go:build !js

package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seen is what a test server learned of one connection.
type seen struct {
	req         *http.Request
	subprotocol string
	types       []wsproto.MessageType // of the messages received
	end         error                 // how the connection ended
}

// serve starts a WebSocket server on 127.0.0.1 running handle on each
// connection, and returns its ws:// URL and what it saw of each connection
// once the connection ended.
func serve(t *testing.T, tls bool, handle func(c *wsproto.Conn, s *seen)) (string, <-chan *seen) {
	seens := make(chan *seen, 8)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wsproto.Upgrade(w, r, &wsproto.UpgradeOptions{
			Subprotocols:   []string{"chat", "superchat"},
			OriginPatterns: []string{"example.com"},
			Compression:    &wsproto.CompressionOptions{},
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		s := &seen{req: r, subprotocol: c.Subprotocol()}
		handle(c, s)
		seens <- s
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused certificates
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/", seens
}

// echo sends every message back, with its type.
func echo(c *wsproto.Conn, s *seen) {
	ctx := context.Background()
	for {
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			s.end = err
			return
		}
		s.types = append(s.types, typ)
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			s.end = err
			return
		}
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func runClient(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	return waitClient(t, startClient(context.Background(), stdin, args...))
}

// startClient runs the command in the background.
func startClient(ctx context.Context, stdin io.Reader, args ...string) <-chan result {
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := run(ctx, args, stdin, &stdout, &stderr)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	return done
}

func waitClient(t *testing.T, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return")
		return result{}
	}
}

func next(t *testing.T, seens <-chan *seen) *seen {
	t.Helper()
	select {
	case s := <-seens:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not see the connection end")
		return nil
	}
}

func TestLinesComeBack(t *testing.T) {
	url, seens := serve(t, false, echo)
	in := "hello\nworld\n\nünïcödé ✓\nno newline at the end"
	r := runClient(t, strings.NewReader(in), url)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, in+"\n", r.stdout)
	s := next(t, seens)
	assert.Len(t, s.types, 5)
	for _, typ := range s.types {
		assert.Equal(t, wsproto.MessageText, typ)
	}
	// End of input closes normally.
	assert.Equal(t, wsproto.CloseNormalClosure, wsproto.CloseStatus(s.end), "%v", s.end)
}

func TestOneShot(t *testing.T) {
	// chatty answers each message three times.
	chatty := func(c *wsproto.Conn, s *seen) {
		ctx := context.Background()
		for i := 0; ; i++ {
			_, msg, err := c.ReadMessage(ctx, nil)
			if err != nil {
				s.end = err
				return
			}
			for j := range 3 {
				_ = c.WriteMessage(ctx, wsproto.MessageText, append(msg, byte('1'+j)))
			}
		}
	}

	t.Run("one reply", func(t *testing.T) {
		url, seens := serve(t, false, echo)
		r := runClient(t, nil, "-send", "hi there", url)
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "hi there\n", r.stdout)
		assert.Equal(t, wsproto.CloseNormalClosure, wsproto.CloseStatus(next(t, seens).end))
	})
	t.Run("N of more replies", func(t *testing.T) {
		url, seens := serve(t, false, chatty)
		r := runClient(t, nil, "-send", "x", "-n", "2", url)
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "x1\nx2\n", r.stdout)
		assert.Equal(t, wsproto.CloseNormalClosure, wsproto.CloseStatus(next(t, seens).end))
	})
	t.Run("flags after the URL", func(t *testing.T) {
		url, _ := serve(t, false, chatty)
		r := runClient(t, nil, url, "-n", "3", "-send", "y")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "y1\ny2\ny3\n", r.stdout)
	})
	t.Run("zero replies", func(t *testing.T) {
		url, seens := serve(t, false, echo)
		r := runClient(t, nil, "-send", "z", "-n", "0", url)
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stdout)
		assert.Len(t, next(t, seens).types, 1)
	})
	t.Run("too few replies in time", func(t *testing.T) {
		url, seens := serve(t, false, echo)
		r := runClient(t, nil, "-send", "once", "-n", "2", "-timeout", "200ms", url)
		assert.Equal(t, exitNoReplies, r.code)
		assert.Equal(t, "once\n", r.stdout)
		assert.Contains(t, r.stderr, "1 of 2 replies")
		assert.Equal(t, wsproto.CloseNormalClosure, wsproto.CloseStatus(next(t, seens).end))
	})
}

func TestHandshakeOptions(t *testing.T) {
	url, seens := serve(t, false, echo)
	r := runClient(t, nil,
		"-H", "X-Token: abc:def",
		"-H", "x-other:  two words ",
		"-H", "X-Token: again",
		"-subprotocol", "nope, chat",
		"-subprotocol", "superchat",
		"-origin", "https://example.com",
		"-send", "hi",
		url)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, `subprotocol "chat"`)
	s := next(t, seens)
	assert.Equal(t, []string{"abc:def", "again"}, s.req.Header.Values("X-Token"))
	assert.Equal(t, "two words", s.req.Header.Get("X-Other"))
	assert.Equal(t, "https://example.com", s.req.Header.Get("Origin"))
	assert.Equal(t, "nope, chat, superchat", strings.Join(s.req.Header.Values("Sec-WebSocket-Protocol"), ", "))
	assert.Equal(t, "chat", s.subprotocol)
	assert.Contains(t, s.req.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")

	t.Run("no compression", func(t *testing.T) {
		r := runClient(t, nil, "-no-compression", "-send", "hi", url)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, next(t, seens).req.Header.Get("Sec-WebSocket-Extensions"))
	})
}

func TestBinary(t *testing.T) {
	t.Run("hex lines round trip", func(t *testing.T) {
		url, seens := serve(t, false, echo)
		r := runClient(t, strings.NewReader("deadBEEF\n00 01\tff\nzz\n\n"), "-binary", url)
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "deadbeef\n0001ff\n\n", r.stdout)
		assert.Contains(t, r.stderr, `skipped line: not hexadecimal: "zz"`)
		s := next(t, seens)
		assert.Equal(t, []wsproto.MessageType{wsproto.MessageBinary, wsproto.MessageBinary, wsproto.MessageBinary}, s.types)
	})
	t.Run("one shot", func(t *testing.T) {
		url, _ := serve(t, false, echo)
		r := runClient(t, nil, "-binary", "-send", "cafe", url)
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "cafe\n", r.stdout)
	})
	t.Run("binary from the server is printed as hex anyway", func(t *testing.T) {
		url, _ := serve(t, false, func(c *wsproto.Conn, s *seen) {
			_ = c.WriteMessage(context.Background(), wsproto.MessageBinary, []byte{0, 1, 0xfe})
			echo(c, s)
		})
		r := runClient(t, nil, "-send", "text", "-n", "2", url)
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "0001fe\ntext\n", r.stdout)
	})
}

func TestServerEnds(t *testing.T) {
	tests := []struct {
		name   string
		handle func(c *wsproto.Conn, s *seen)
		code   int
		stderr string
	}{
		{"policy violation", func(c *wsproto.Conn, s *seen) {
			_, _, _ = c.ReadMessage(context.Background(), nil)
			s.end = c.Close(wsproto.ClosePolicyViolation, "no thanks")
		}, exitAbnormal, "closed: 1008 no thanks\n"},
		{"going away", func(c *wsproto.Conn, s *seen) {
			_, _, _ = c.ReadMessage(context.Background(), nil)
			s.end = c.Close(wsproto.CloseGoingAway, "")
		}, exitAbnormal, "closed: 1001\n"},
		{"normal", func(c *wsproto.Conn, s *seen) {
			_, _, _ = c.ReadMessage(context.Background(), nil)
			s.end = c.Close(wsproto.CloseNormalClosure, "bye")
		}, exitOK, ""},
		{"connection lost", func(c *wsproto.Conn, s *seen) {
			_, _, _ = c.ReadMessage(context.Background(), nil)
			s.end = c.CloseNow()
		}, exitAbnormal, "closed: 1006 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := serve(t, false, tt.handle)
			// Standard input stays open: the server ends the connection.
			stdin, w := io.Pipe()
			defer w.Close()
			go func() { _, _ = io.WriteString(w, "hello\n") }()
			r := runClient(t, stdin, url)
			assert.Equal(t, tt.code, r.code, r.stderr)
			if tt.stderr == "" {
				assert.NotContains(t, r.stderr, "closed:")
			} else {
				assert.Contains(t, r.stderr, tt.stderr)
			}
		})
	}
}

func TestBadUsage(t *testing.T) {
	url, _ := serve(t, false, echo)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no URL", nil, "want one URL"},
		{"two URLs", []string{url, url}, "want one URL"},
		{"unknown flag", []string{"-nope", url}, "flag provided but not defined"},
		{"not a ws URL", []string{"http://127.0.0.1/"}, "not a ws:// or wss:// URL"},
		{"no host", []string{"ws:///path"}, "not a ws:// or wss:// URL"},
		{"bad header", []string{"-H", "no colon", url}, "want 'Name: value'"},
		{"header without a name", []string{"-H", ": x", url}, "want 'Name: value'"},
		{"-n without -send", []string{"-n", "2", url}, "-n goes with -send"},
		{"negative -n", []string{"-send", "x", "-n", "-1", url}, "must not be negative"},
		{"-send not hex", []string{"-binary", "-send", "xyz", url}, "not hexadecimal"},
		{"no timeout", []string{"-timeout", "0", url}, "-timeout must be positive"},
		{"bad duration", []string{"-ping-interval", "often", url}, "invalid value"},
		{"negative timeout", []string{"-pong-timeout", "-1s", url}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runClient(t, nil, tt.args...)
			assert.Equal(t, exitUsage, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.Empty(t, r.stdout)
		})
	}
	t.Run("help", func(t *testing.T) {
		r := runClient(t, nil, "-h")
		assert.Equal(t, exitOK, r.code)
		assert.Contains(t, r.stderr, "Exit status:")
		assert.Contains(t, r.stderr, "-subprotocol")
	})
}

func TestCannotConnect(t *testing.T) {
	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		r := runClient(t, nil, "ws://"+addr+"/")
		assert.Equal(t, exitConnect, r.code)
		assert.Contains(t, r.stderr, "cannot connect")
	})
	t.Run("refused by the server", func(t *testing.T) {
		url, _ := serve(t, false, echo)
		r := runClient(t, nil, "-origin", "https://evil.example", url)
		assert.Equal(t, exitConnect, r.code)
		assert.Contains(t, r.stderr, "HTTP status 403 Forbidden")
	})
	t.Run("not a WebSocket server", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(srv.Close)
		r := runClient(t, nil, "ws"+strings.TrimPrefix(srv.URL, "http"))
		assert.Equal(t, exitConnect, r.code)
		assert.Contains(t, r.stderr, "HTTP status 404 Not Found")
	})
}

func TestTLS(t *testing.T) {
	url, _ := serve(t, true, echo)
	require.True(t, strings.HasPrefix(url, "wss://"))

	r := runClient(t, nil, "-send", "secret", url)
	assert.Equal(t, exitConnect, r.code)
	assert.Contains(t, r.stderr, "certificate")

	r = runClient(t, strings.NewReader("secret\n"), "-insecure", url)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "secret\n", r.stdout)
}

func TestPing(t *testing.T) {
	var pings atomic.Int32
	url, _ := serve(t, false, func(c *wsproto.Conn, s *seen) {
		c.SetPingHandler(func([]byte) { pings.Add(1) })
		echo(c, s)
	})
	stdin, w := io.Pipe()
	done := startClient(context.Background(), stdin, "-ping-interval", "10ms", "-pong-timeout", "10ms", url)
	require.Eventually(t, func() bool { return pings.Load() >= 3 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, w.Close())
	r := waitClient(t, done)
	assert.Equal(t, 0, r.code, r.stderr)
}

func TestInterrupt(t *testing.T) {
	url, seens := serve(t, false, echo)
	stdin, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := startClient(ctx, stdin, url)
	_, err := io.WriteString(w, "before the interrupt\n")
	require.NoError(t, err)
	cancel()
	r := waitClient(t, done)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, wsproto.CloseNormalClosure, wsproto.CloseStatus(next(t, seens).end))
}
