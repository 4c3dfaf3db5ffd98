//go:build js && wasm

// Command wasmtest runs wsproto's client in a browser, against the servers
// of wsproto's TestBrowserWASM, and leaves what it found in the page:
// window.wasmResults, a JSON list of {"name","ok","detail"}, then
// window.wasmDone = true. The servers' base URL is the page's, in ws: form.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall/js"
	"time"

	"github.com/db7c6739/ws/wsproto"
)

type result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

var base string // ws://host:port

func main() {
	base = "ws://" + js.Global().Get("location").Get("host").String()
	var results []result
	for _, tc := range cases() {
		js.Global().Set("wasmRunning", tc.name)
		err := runCase(tc.run)
		r := result{Name: tc.name, OK: err == nil}
		if err != nil {
			r.Detail = err.Error()
		}
		results = append(results, r)
		out, _ := json.Marshal(results)
		js.Global().Set("wasmResults", string(out))
	}
	js.Global().Set("wasmFinished", len(results)) // not reached after a panic
	js.Global().Set("wasmDone", true)
}

// runCase runs f within 30 s.
func runCase(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return f(ctx)
}

type testCase struct {
	name string
	run  func(ctx context.Context) error
}

func dial(ctx context.Context, path string, opts *wsproto.DialOptions) (*wsproto.Conn, error) {
	c, _, err := wsproto.Dial(ctx, base+path, opts)
	return c, err
}

// payload returns n bytes: letters for text, every byte value for binary.
func payload(typ wsproto.MessageType, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		if typ == wsproto.MessageText {
			p[i] = 'a' + byte(i%26)
		} else {
			p[i] = byte(i * 7)
		}
	}
	return p
}

func echoOnce(ctx context.Context, c *wsproto.Conn, typ wsproto.MessageType, p []byte) error {
	if err := c.WriteMessage(ctx, typ, p); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	gotTyp, got, err := c.ReadMessage(ctx, nil)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if gotTyp != typ || !bytes.Equal(got, p) {
		return fmt.Errorf("sent %v of %d bytes, got %v of %d bytes", typ, len(p), gotTyp, len(got))
	}
	return nil
}

func cases() []testCase {
	var tcs []testCase
	for _, typ := range []wsproto.MessageType{wsproto.MessageText, wsproto.MessageBinary} {
		for _, n := range []int{0, 125, 64 << 10, 4 << 20} {
			tcs = append(tcs, testCase{fmt.Sprintf("echo %v %d B", typ, n), func(ctx context.Context) error {
				c, err := dial(ctx, "/echo", nil)
				if err != nil {
					return err
				}
				defer c.CloseNow()
				return echoOnce(ctx, c, typ, payload(typ, n))
			}})
		}
	}
	tcs = append(tcs,
		testCase{"echo text beyond ASCII", func(ctx context.Context) error {
			c, err := dial(ctx, "/echo", nil)
			if err != nil {
				return err
			}
			defer c.CloseNow()
			return echoOnce(ctx, c, wsproto.MessageText, []byte("héllo, 世界 🌍 \u0000 end"))
		}},
		testCase{"NextWriter and NextReader", func(ctx context.Context) error {
			c, err := dial(ctx, "/echo", nil)
			if err != nil {
				return err
			}
			defer c.CloseNow()
			w, err := c.NextWriter(ctx, wsproto.MessageBinary)
			if err != nil {
				return err
			}
			for _, part := range []string{"one ", "two ", "three"} {
				if _, err := io.WriteString(w, part); err != nil {
					return err
				}
			}
			if err := w.Close(); err != nil {
				return err
			}
			typ, r, err := c.NextReader(ctx)
			if err != nil {
				return err
			}
			got, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			if typ != wsproto.MessageBinary || string(got) != "one two three" {
				return fmt.Errorf("got %v %q", typ, got)
			}
			return nil
		}},
		testCase{"JSON helpers", func(ctx context.Context) error {
			c, err := dial(ctx, "/echo", nil)
			if err != nil {
				return err
			}
			defer c.CloseNow()
			type point struct{ X, Y int }
			if err := c.WriteJSON(ctx, point{3, 4}); err != nil {
				return err
			}
			var p point
			if err := c.ReadJSON(ctx, &p); err != nil {
				return err
			}
			if p != (point{3, 4}) {
				return fmt.Errorf("got %+v", p)
			}
			return nil
		}},
		testCase{"close from the page with code and reason", func(ctx context.Context) error {
			c, err := dial(ctx, "/client-close", nil)
			if err != nil {
				return err
			}
			if err := c.Close(4000, "bye from the page"); err != nil {
				return fmt.Errorf("Close: %w", err)
			}
			// A read after Close returns the server's answer: our code
			// echoed (the server, TestBrowserWASM, checks our reason).
			_, _, err = c.ReadMessage(ctx, nil)
			if ce, ok := errors.AsType[*wsproto.CloseError](err); !ok || ce.Code != 4000 {
				return fmt.Errorf("read after Close: %v", err)
			}
			if err := c.Close(4000, "again"); !errors.Is(err, wsproto.ErrClosed) {
				return fmt.Errorf("second Close: %v", err)
			}
			return nil
		}},
		testCase{"close from the server with code and reason", func(ctx context.Context) error {
			c, err := dial(ctx, "/server-close", nil)
			if err != nil {
				return err
			}
			defer c.CloseNow()
			_, _, err = c.ReadMessage(ctx, nil)
			ce, ok := errors.AsType[*wsproto.CloseError](err)
			if !ok || ce.Code != 4001 || ce.Reason != "bye from the server" || !errors.Is(err, wsproto.ErrClosed) {
				return fmt.Errorf("got %v", err)
			}
			if _, _, again := c.ReadMessage(ctx, nil); again != err {
				return fmt.Errorf("a later read: %v", again)
			}
			if err := c.WriteMessage(ctx, wsproto.MessageText, []byte("late")); !errors.Is(err, wsproto.ErrClosed) {
				return fmt.Errorf("write after the close: %v", err)
			}
			return nil
		}},
		testCase{"the server's close survives a later CloseNow", func(ctx context.Context) error {
			c, err := dial(ctx, "/server-close", nil)
			if err != nil {
				return err
			}
			// A write fails once the close event is in; then CloseNow.
			for c.WriteMessage(ctx, wsproto.MessageText, []byte("x")) == nil {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(10 * time.Millisecond):
				}
			}
			if err := c.CloseNow(); !errors.Is(err, wsproto.ErrClosed) {
				return fmt.Errorf("CloseNow: %v", err)
			}
			_, _, err = c.ReadMessage(ctx, nil)
			if ce, ok := errors.AsType[*wsproto.CloseError](err); !ok || ce.Code != 4001 || ce.Reason != "bye from the server" {
				return fmt.Errorf("read: %v", err)
			}
			return nil
		}},
		testCase{"subprotocol", func(ctx context.Context) error {
			c, resp, err := wsproto.Dial(ctx, base+"/subprotocol", &wsproto.DialOptions{Subprotocols: []string{"chat.v1", "chat.v2"}})
			if err != nil {
				return err
			}
			defer c.CloseNow()
			if c.Subprotocol() != "chat.v2" || resp.Header.Get("Sec-WebSocket-Protocol") != "chat.v2" || resp.StatusCode != 101 {
				return fmt.Errorf("Subprotocol %q, response %d %q", c.Subprotocol(), resp.StatusCode, resp.Header.Get("Sec-WebSocket-Protocol"))
			}
			return echoOnce(ctx, c, wsproto.MessageText, []byte("in chat.v2"))
		}},
		testCase{"read limit exceeded", func(ctx context.Context) error {
			c, err := dial(ctx, "/big", &wsproto.DialOptions{ReadLimit: 1024})
			if err != nil {
				return err
			}
			defer c.CloseNow()
			_, _, err = c.ReadMessage(ctx, nil)
			pe, ok := errors.AsType[*wsproto.ProtocolError](err)
			if !ok || pe.Code != wsproto.CloseMessageTooBig || !errors.Is(err, wsproto.ErrMessageTooBig) {
				return fmt.Errorf("got %v", err)
			}
			return nil
		}},
		testCase{"read limit exceeded, text", func(ctx context.Context) error {
			c, err := dial(ctx, "/bigtext", &wsproto.DialOptions{ReadLimit: 1024})
			if err != nil {
				return err
			}
			defer c.CloseNow()
			// 1,024 bytes of UTF-8 pass; 2,048 fail, though they are only
			// 1,024 UTF-16 units.
			_, p, err := c.ReadMessage(ctx, nil)
			if err != nil || len(p) != 1024 {
				return fmt.Errorf("first: %d bytes, %v", len(p), err)
			}
			_, _, err = c.ReadMessage(ctx, nil)
			if !errors.Is(err, wsproto.ErrMessageTooBig) {
				return fmt.Errorf("second: %v", err)
			}
			return nil
		}},
		testCase{"Dial abandoned by its context", func(ctx context.Context) error {
			dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			_, _, err := wsproto.Dial(dctx, base+"/hang", nil)
			if !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("got %v", err)
			}
			return nil
		}},
		testCase{"server refuses the upgrade", func(ctx context.Context) error {
			_, _, err := wsproto.Dial(ctx, base+"/refuse", nil)
			if !errors.Is(err, wsproto.ErrDialFailed) || wsproto.CloseStatus(err) != wsproto.CloseAbnormalClosure {
				return fmt.Errorf("got %v", err)
			}
			return nil
		}},
		testCase{"context cancelled mid-read", func(ctx context.Context) error {
			c, err := dial(ctx, "/silent", nil)
			if err != nil {
				return err
			}
			rctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(100*time.Millisecond, cancel)
			_, _, err = c.ReadMessage(rctx, nil)
			if !errors.Is(err, context.Canceled) || wsproto.CloseStatus(err) != wsproto.CloseAbnormalClosure {
				return fmt.Errorf("got %v", err)
			}
			if _, _, again := c.ReadMessage(ctx, nil); again != err {
				return fmt.Errorf("a later read: %v", again)
			}
			return nil
		}},
		testCase{"what the browser decides is refused", func(ctx context.Context) error {
			for name, opts := range map[string]*wsproto.DialOptions{
				"Header":       {Header: map[string][]string{"X-Token": {"t"}}},
				"Origin":       {Origin: "https://example.com"},
				"PingInterval": {PingInterval: time.Second},
				"Compression":  {Compression: &wsproto.CompressionOptions{}},
			} {
				_, _, err := wsproto.Dial(ctx, base+"/echo", opts)
				if !errors.Is(err, wsproto.ErrNotInBrowser) || !strings.Contains(err.Error(), name) {
					return fmt.Errorf("%s: got %v", name, err)
				}
			}
			c, err := dial(ctx, "/echo", nil)
			if err != nil {
				return err
			}
			defer c.CloseNow()
			if err := c.Close(wsproto.CloseGoingAway, ""); !errors.Is(err, wsproto.ErrCloseCodeNotInBrowser) {
				return fmt.Errorf("Close(1001): %v", err)
			}
			if err := c.WriteMessage(ctx, wsproto.MessageText, []byte{0xff}); !errors.Is(err, wsproto.ErrInvalidUTF8) {
				return fmt.Errorf("invalid UTF-8: %v", err)
			}
			return echoOnce(ctx, c, wsproto.MessageText, []byte("still open"))
		}},
	)
	return tcs
}
