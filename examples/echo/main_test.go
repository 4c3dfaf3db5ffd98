//go:build !js

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/examples/internal/graceful/gracefultest"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func startEcho(t *testing.T) (*server, string) {
	s := newServer(slog.New(slog.NewTextHandler(io.Discard, nil)), &wsproto.UpgradeOptions{ReadLimit: 32 << 20})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

func TestEchoServer(t *testing.T) {
	_, url := startEcho(t)
	ctx := context.Background()
	c, _, err := wsproto.Dial(ctx, url, nil)
	require.NoError(t, err)
	defer c.CloseNow()

	for _, typ := range []wsproto.MessageType{wsproto.MessageText, wsproto.MessageBinary} {
		for _, size := range []int{0, 125, 126, 65535, 65536, 16 << 20} {
			for _, fragmented := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/%d/fragmented=%v", typ, size, fragmented), func(t *testing.T) {
					msg := bytes.Repeat([]byte("echo! "), size/6+1)[:size]
					if fragmented {
						w, err := c.NextWriter(ctx, typ)
						require.NoError(t, err)
						for p := msg; len(p) > 0; p = p[min(len(p), 50_000):] {
							_, err := w.Write(p[:min(len(p), 50_000)])
							require.NoError(t, err)
							require.NoError(t, w.Flush())
						}
						require.NoError(t, w.Close())
					} else {
						require.NoError(t, c.WriteMessage(ctx, typ, msg))
					}
					gotType, got, err := c.ReadMessage(ctx, nil)
					require.NoError(t, err)
					assert.Equal(t, typ, gotType)
					assert.True(t, bytes.Equal(msg, got))
				})
			}
		}
	}

	t.Run("ping", func(t *testing.T) {
		pong := make(chan string, 1)
		c.SetPongHandler(func(p []byte) { pong <- string(p) })
		_, err := c.Ping(ctx, []byte("hello?"))
		require.NoError(t, err)
		require.NoError(t, c.WriteMessage(ctx, wsproto.MessageText, []byte("x")))
		_, _, err = c.ReadMessage(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, "hello?", <-pong)
	})
	t.Run("close", func(t *testing.T) {
		require.NoError(t, c.Close(4000, "done here"))
	})
}

// TestEchoShutdown: the server stops promptly with a browser-like spare
// connection, an idle keep-alive, a WebSocket that never reads and one
// that does attached, and tells the WebSocket clients 1001.
func TestEchoShutdown(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gracefultest.Shutdown(t, func(ctx context.Context, ln net.Listener) error {
		return serve(ctx, ln, newServer(log, &wsproto.UpgradeOptions{}))
	}, "/", 2*time.Second)
}

// TestEchoHeartbeat: with -ping-interval 1s -pong-timeout 1s, a WebSocket
// that never answers is closed, and one that reads stays.
func TestEchoHeartbeat(t *testing.T) {
	opts := &wsproto.UpgradeOptions{}
	gracefultest.HeartbeatFlags(t, "-ping-interval", "1s", "-pong-timeout", "1s").Apply(opts)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gracefultest.Heartbeat(t, func(ctx context.Context, ln net.Listener) error {
		return serve(ctx, ln, newServer(log, opts))
	}, "/", 10*time.Second)
}

func TestEchoClientDrops(t *testing.T) {
	ctx := context.Background()
	s, url := startEcho(t)
	c, _, err := wsproto.Dial(ctx, url, nil)
	require.NoError(t, err)
	_, err = c.Ping(ctx, nil) // the server's handler is running
	require.NoError(t, err)
	require.Equal(t, 1, s.conns.Len())
	require.NoError(t, c.CloseNow())
	require.Eventually(t, func() bool { return s.conns.Len() == 0 }, 5*time.Second, 5*time.Millisecond, "the server's handler did not end")
}

func TestEchoPage(t *testing.T) {
	_, url := startEcho(t)
	base := "http" + strings.TrimPrefix(url, "ws")
	resp, err := http.Get(base)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(body), "new WebSocket(")
	assert.NotContains(t, string(body), "innerHTML")

	resp, err = http.Get(base + "nope")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// A browser on another site may not connect (same-origin by default).
	_, resp, err = wsproto.Dial(context.Background(), url, &wsproto.DialOptions{Origin: "https://evil.example"})
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}
