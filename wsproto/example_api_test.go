//go:build !js

package wsproto_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/db7c6739/ws/wsproto"
)

// echoServer serves an echo on every upgrade with opts, and returns its
// ws:// URL and a function that stops it.
func echoServer(opts *wsproto.UpgradeOptions) (string, func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wsproto.Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(r.Context(), buf)
			if err != nil {
				return
			}
			if err := c.WriteMessage(r.Context(), typ, msg); err != nil {
				return
			}
			buf = msg
		}
	}))
	return "ws" + strings.TrimPrefix(srv.URL, "http"), srv.Close
}

// A server with the options a public endpoint wants: a heartbeat that drops
// peers gone silent, a smaller read limit, compression, and an origin check
// of its own.
func ExampleUpgrade() {
	opts := &wsproto.UpgradeOptions{
		PingInterval: 30 * time.Second, // ping after 30 s of silence...
		PingTimeout:  10 * time.Second, // ...and give up 10 s later
		ReadLimit:    1 << 20,
		Compression:  &wsproto.CompressionOptions{},
		CheckOrigin: func(r *http.Request) bool {
			origin := r.Header.Get("Origin")
			return origin == "" || origin == "https://app.example.com"
		},
	}
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := wsproto.Upgrade(w, r, opts)
		if err != nil {
			return // answered already: 400, 403, 405 or 426
		}
		defer c.CloseNow()
		for {
			var v map[string]any
			if err := c.ReadJSON(r.Context(), &v); err != nil {
				return
			}
			if err := c.WriteJSON(r.Context(), v); err != nil {
				return
			}
		}
	})
}

// A client with a deadline on the handshake, through whatever proxy the
// environment names (HTTPS_PROXY for wss://).
func ExampleDial() {
	u, stop := echoServer(nil)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := wsproto.Dial(ctx, u, &wsproto.DialOptions{
		Subprotocols: []string{"chat.v1"},
		PingInterval: 30 * time.Second,
	})
	var refused *wsproto.HandshakeError
	switch {
	case errors.As(err, &refused):
		log.Fatalf("refused with %d: %v", resp.StatusCode, err)
	case err != nil:
		log.Fatal(err)
	}
	defer c.CloseNow()
	fmt.Println(resp.StatusCode, c.Subprotocol() == "")
	// Output: 101 true
}

// Dial through an explicit proxy, with basic authentication.
func ExampleDialOptions_proxy() {
	proxy, _ := url.Parse("http://user:secret@proxy.internal:3128")
	opts := &wsproto.DialOptions{Proxy: http.ProxyURL(proxy)}
	_ = opts // wsproto.Dial(ctx, "wss://example.com/ws", opts)
}

// A message read as a stream, without holding it whole.
func ExampleConn_NextReader() {
	u, stop := echoServer(nil)
	defer stop()
	ctx := context.Background()
	c, _, err := wsproto.Dial(ctx, u, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(ctx, wsproto.MessageBinary, make([]byte, 100_000)); err != nil {
		log.Fatal(err)
	}
	typ, r, err := c.NextReader(ctx)
	if err != nil {
		log.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	fmt.Println(typ, n, err)
	// Output: binary 100000 <nil>
}

// Ping waits for the pong, reading for it if no one else reads.
func ExampleConn_Ping() {
	u, stop := echoServer(nil)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := wsproto.Dial(ctx, u, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	rtt, err := c.Ping(ctx, []byte("are you there?"))
	fmt.Println(err, rtt > 0)
	// Output: <nil> true
}

// How a connection ended: the peer's close code, with CloseStatus.
func ExampleCloseStatus() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wsproto.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		_ = c.Close(wsproto.CloseTryAgainLater, "full, come back later")
	}))
	defer srv.Close()
	ctx := context.Background()
	c, _, err := wsproto.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = c.ReadMessage(ctx, nil)
	code := wsproto.CloseStatus(err)
	var ce *wsproto.CloseError
	fmt.Println(int(code), code, errors.As(err, &ce) && ce.Reason == "full, come back later", errors.Is(err, wsproto.ErrClosed))
	// Output: 1013 try again later true true
}

// A feed that only writes: CloseRead handles pongs and the peer's close.
func ExampleConn_CloseRead() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wsproto.Upgrade(w, r, &wsproto.UpgradeOptions{PingInterval: 30 * time.Second})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := c.CloseRead(r.Context()) // done when the connection ends
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			default:
			}
			if err := c.WriteMessage(ctx, wsproto.MessageText, fmt.Appendf(nil, "tick %d", i)); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c, _, err := wsproto.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	_, msg, err := c.ReadMessage(ctx, nil)
	fmt.Println(string(msg), err)
	fmt.Println(c.Close(wsproto.CloseNormalClosure, ""))
	// Output:
	// tick 0 <nil>
	// <nil>
}

// JSON values as text messages.
func ExampleConn_WriteJSON() {
	u, stop := echoServer(nil)
	defer stop()
	ctx := context.Background()
	c, _, err := wsproto.Dial(ctx, u, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	type point struct{ X, Y int }
	if err := c.WriteJSON(ctx, point{3, 4}); err != nil {
		log.Fatal(err)
	}
	var p point
	err = c.ReadJSON(ctx, &p)
	fmt.Println(p, err)
	// Output: {3 4} <nil>
}

// A connection as a net.Conn, for code that wants a byte stream.
func ExampleConn_Stream() {
	u, stop := echoServer(nil)
	defer stop()
	c, _, err := wsproto.Dial(context.Background(), u, nil)
	if err != nil {
		log.Fatal(err)
	}
	nc := c.Stream(wsproto.MessageBinary)
	defer nc.Close()
	fmt.Fprintf(nc, "hello, %s", "stream")
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(nc, buf, len("hello, stream"))
	fmt.Println(string(buf[:n]), err)
	// Output: hello, stream <nil>
}

// A broadcast encoded once for every connection.
func ExampleNewPreparedMessage() {
	u, stop := echoServer(nil)
	defer stop()
	ctx := context.Background()
	var conns []*wsproto.Conn
	for range 3 {
		c, _, err := wsproto.Dial(ctx, u, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer c.CloseNow()
		conns = append(conns, c)
	}
	m, err := wsproto.NewPreparedMessage(wsproto.MessageText, []byte("to everyone"))
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range conns {
		if err := c.WritePrepared(ctx, m); err != nil {
			log.Print(err)
		}
	}
	for _, c := range conns {
		_, msg, err := c.ReadMessage(ctx, nil)
		fmt.Println(string(msg), err)
	}
	// Output:
	// to everyone <nil>
	// to everyone <nil>
	// to everyone <nil>
}
