//go:build !js

package wsproto_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/db7c6739/ws/wsproto"
)

// An echo server behind net/http and a client that talks to it.
func Example() {
	srv := httptest.NewServer(wsproto.Handler(nil, func(c *wsproto.Conn, r *http.Request) {
		defer c.CloseNow()
		ctx := context.Background()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(ctx, buf)
			if err != nil {
				return
			}
			if err := c.WriteMessage(ctx, typ, msg); err != nil {
				return
			}
			buf = msg
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	c, _, err := wsproto.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.WriteMessage(ctx, wsproto.MessageText, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	typ, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(typ, string(msg))
	fmt.Println(c.Close(wsproto.CloseNormalClosure, "bye"))
	// Output:
	// text hello
	// <nil>
}

// A message streamed in pieces: each Flush sends a frame.
func ExampleConn_NextWriter() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wsproto.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, msg, err := c.ReadMessage(r.Context(), nil)
		if err != nil {
			return
		}
		fmt.Printf("server read %q\n", msg)
		_ = c.Close(wsproto.CloseNormalClosure, "")
	}))
	defer srv.Close()

	ctx := context.Background()
	c, _, err := wsproto.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	w, err := c.NextWriter(ctx, wsproto.MessageText)
	if err != nil {
		log.Fatal(err)
	}
	for _, part := range []string{"one, ", "two, ", "three"} {
		fmt.Fprint(w, part)
		_ = w.Flush()
	}
	_ = w.Close()
	_, _, err = c.ReadMessage(ctx, nil)
	fmt.Println(wsproto.CloseStatus(err))
	// Output:
	// server read "one, two, three"
	// normal closure
}

// A server on a listener of its own, without net/http.
func ExampleUpgradeConn() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c, err := wsproto.UpgradeConn(nc, &wsproto.UpgradeOptions{Subprotocols: []string{"chat"}})
		if err != nil {
			return // UpgradeConn answered the request and closed nc
		}
		defer c.CloseNow()
		_ = c.WriteMessage(context.Background(), wsproto.MessageText, []byte("welcome to "+c.Subprotocol()))
		_, _, _ = c.ReadMessage(context.Background(), nil) // until the client closes
	}()

	ctx := context.Background()
	c, _, err := wsproto.Dial(ctx, "ws://"+ln.Addr().String()+"/", &wsproto.DialOptions{Subprotocols: []string{"chat"}})
	if err != nil {
		log.Fatal(err)
	}
	_, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg))
	fmt.Println(c.Close(wsproto.CloseNormalClosure, ""))
	// Output:
	// welcome to chat
	// <nil>
}
