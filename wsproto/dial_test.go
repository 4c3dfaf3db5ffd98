//go:build !js

package wsproto

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDialTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-echoLoop(c)
	}))
	defer srv.Close()
	url := "wss" + strings.TrimPrefix(srv.URL, "https")
	ctx := context.Background()

	_, _, err := Dial(ctx, url, nil)
	require.Error(t, err, "an unknown certificate authority must be refused")

	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig
	c, resp, err := Dial(ctx, url, &DialOptions{TLSConfig: tlsConfig})
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	msg := payload(100_000, false)
	require.NoError(t, c.WriteMessage(ctx, MessageBinary, msg))
	_, got, err := c.ReadMessage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, msg, got)
	require.NoError(t, c.Close(frame.CloseNormalClosure, ""))
}

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	_, _, err := Dial(ctx, "http://127.0.0.1:1/", nil)
	assert.ErrorContains(t, err, "not ws or wss")
	_, _, err = Dial(ctx, "ws://%zz", nil)
	assert.Error(t, err)

	t.Run("refused upgrade keeps the body", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no sockets here", http.StatusTeapot)
		}))
		defer srv.Close()
		_, resp, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		var he *handshake.Error
		require.ErrorAs(t, err, &he)
		require.NotNil(t, resp)
		assert.Equal(t, http.StatusTeapot, resp.StatusCode)
		body, _ := io.ReadAll(resp.Body)
		assert.Contains(t, string(body), "no sockets here")
	})
	t.Run("server that never answers", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		go func() {
			nc, err := ln.Accept()
			if err == nil {
				defer nc.Close()
				_, _ = io.Copy(io.Discard, nc)
			}
		}()
		start := time.Now()
		_, _, err = Dial(ctx, "ws://"+ln.Addr().String()+"/", &DialOptions{HandshakeTimeout: 100 * time.Millisecond})
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("cancelled context", func(t *testing.T) {
		done, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := Dial(done, "ws://127.0.0.1:1/", nil)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestUpgradeRejections(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := Upgrade(w, r, &UpgradeOptions{OriginPatterns: []string{"*.trusted.example"}})
		assert.Error(t, err)
	}))
	defer srv.Close()
	get := func(header map[string]string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	upgrade := map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for a, b := range upgrade {
			h[a] = b
		}
		h[k] = v
		return h
	}
	assert.Equal(t, http.StatusUpgradeRequired, get(nil).StatusCode, "plain GET")
	resp := get(with("Sec-WebSocket-Version", "8"))
	assert.Equal(t, http.StatusUpgradeRequired, resp.StatusCode)
	assert.Equal(t, "13", resp.Header.Get("Sec-WebSocket-Version"))
	assert.Equal(t, http.StatusBadRequest, get(with("Sec-WebSocket-Key", "c2hvcnQ=")).StatusCode)
	assert.Equal(t, http.StatusForbidden, get(with("Origin", "https://evil.example")).StatusCode)

	ctx := context.Background()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http")
	// An origin matching a pattern passes.
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, &UpgradeOptions{OriginPatterns: []string{"*.trusted.example"}})
		if assert.NoError(t, err) {
			c.CloseNow()
		}
	}))
	defer ok.Close()
	_, _, err := Dial(ctx, "ws"+strings.TrimPrefix(ok.URL, "http"), &DialOptions{Origin: "https://app.trusted.example"})
	require.NoError(t, err)
	_, resp, err = Dial(ctx, wsURL, &DialOptions{Origin: "https://app.untrusted.example"})
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestUpgradeConnRejections(t *testing.T) {
	t.Run("bad request answered and closed", func(t *testing.T) {
		addr, _, errs := listenRaw(t, nil)
		nc, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer nc.Close()
		_, _ = io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
		reply, err := io.ReadAll(nc)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(reply), "HTTP/1.1 400 "), "reply %q", reply)
		assert.ErrorIs(t, <-errs, handshake.ErrBadKey)
	})
	t.Run("slow request hits the handshake timeout", func(t *testing.T) {
		addr, _, errs := listenRaw(t, &UpgradeOptions{HandshakeTimeout: 100 * time.Millisecond})
		nc, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer nc.Close()
		_, _ = io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n") // and nothing more
		select {
		case err := <-errs:
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
		case <-time.After(5 * time.Second):
			t.Fatal("the handshake timeout did not end the upgrade")
		}
		_, err = io.ReadAll(nc)
		assert.NoError(t, err, "the server closes the connection")
	})
	t.Run("oversized head", func(t *testing.T) {
		addr, _, errs := listenRaw(t, &UpgradeOptions{MaxHeaderBytes: 1024})
		nc, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer nc.Close()
		go func() {
			_, _ = io.WriteString(nc, "GET / HTTP/1.1\r\nX-Big: "+strings.Repeat("a", 1<<20)+"\r\n\r\n")
		}()
		assert.ErrorIs(t, <-errs, handshake.ErrHeaderTooLarge)
	})
}
