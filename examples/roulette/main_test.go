//go:build !js

package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/examples/internal/fair"
	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testTimeout = 5 * time.Second

// stopTimeout bounds the wait for serve to return: far above the ~250 ms
// it takes, and away from the server's own timeouts (5 s).
const stopTimeout = 15 * time.Second

// startRoulette serves a roulette on 127.0.0.1 until stop is called or the
// test ends; stop returns serve's result. configure, if any, runs before.
func startRoulette(t *testing.T, configure ...func(*server)) (s *server, addr string, stop func() error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s = newServer(slog.New(slog.NewTextHandler(io.Discard, nil)), graceful.Heartbeat{})
	for _, f := range configure {
		f(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, s) }()
	stop = func() error {
		cancel()
		select {
		case err := <-served:
			served <- err // for the cleanup
			return err
		case <-time.After(stopTimeout):
			t.Fatal("serve did not return")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return s, ln.Addr().String(), stop
}

// peer is a test client of the roulette.
type peer struct {
	t *testing.T
	c *wsproto.Conn
}

func join(t *testing.T, addr string, opts *wsproto.DialOptions) *peer {
	t.Helper()
	c, _, err := wsproto.Dial(context.Background(), "ws://"+addr+"/ws", opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &peer{t, c}
}

// joinAndExpect connects and checks the first thing the server says, which
// also means the server has handled the join.
func joinAndExpect(t *testing.T, addr, first string) *peer {
	t.Helper()
	p := join(t, addr, nil)
	p.expect(first)
	return p
}

func (p *peer) sendRaw(s string) {
	p.t.Helper()
	require.NoError(p.t, p.c.WriteMessage(context.Background(), wsproto.MessageText, []byte(s)))
}

func (p *peer) say(text string) {
	p.t.Helper()
	b, err := json.Marshal(wireMessage{Type: "message", Text: &text})
	require.NoError(p.t, err)
	p.sendRaw(string(b))
}

func (p *peer) next() { p.sendRaw(`{"type":"next"}`) }

func (p *peer) read() (wireMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, b, err := p.c.ReadMessage(ctx, nil)
	if err != nil {
		return wireMessage{}, err
	}
	var m wireMessage
	err = json.Unmarshal(b, &m)
	return m, err
}

// waitFree waits until n clients wait for a partner: the server has seen
// the arrivals and departures before.
func waitFree(t *testing.T, s *server, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		s.hub.mu.Lock()
		defer s.hub.mu.Unlock()
		return len(s.hub.m.free) == n
	}, testTimeout, time.Millisecond)
}

// expect reads the next message and checks its type.
func (p *peer) expect(typ string) wireMessage {
	p.t.Helper()
	m, err := p.read()
	require.NoError(p.t, err)
	require.Equal(p.t, typ, m.Type, "%+v", m)
	return m
}

// hear reads the next message and checks it is text from the partner.
func (p *peer) hear(text string) {
	p.t.Helper()
	m := p.expect("message")
	require.NotNil(p.t, m.Text)
	assert.Equal(p.t, text, *m.Text)
}

// closedWith reads until the connection ends and checks the close code.
func (p *peer) closedWith(code wsproto.CloseCode) {
	p.t.Helper()
	for {
		_, err := p.read()
		if err != nil {
			assert.Equal(p.t, code, wsproto.CloseStatus(err), "%v", err)
			return
		}
	}
}

func TestRoulette(t *testing.T) {
	t.Run("two are paired and talk only to each other", func(t *testing.T) {
		_, addr, _ := startRoulette(t)
		a := joinAndExpect(t, addr, "waiting")
		b := join(t, addr, &wsproto.DialOptions{Compression: &wsproto.CompressionOptions{}})
		b.expect("paired")
		a.expect("paired")
		c := joinAndExpect(t, addr, "waiting")

		a.say("hello b")
		b.hear("hello b")
		long := strings.Repeat("long enough to be compressed ", 20)
		b.say(long)
		a.hear(long)
		a.say("ünïcödé ✓")
		b.hear("ünïcödé ✓")

		// c heard nothing of it: the next thing c hears is its pairing.
		d := joinAndExpect(t, addr, "paired")
		c.expect("paired")
		d.say("hi c")
		c.hear("hi c")
		c.say("hi d")
		d.hear("hi d")
	})

	t.Run("when one leaves the waiting one is paired with the one left alone", func(t *testing.T) {
		_, addr, _ := startRoulette(t)
		a := joinAndExpect(t, addr, "waiting")
		b := joinAndExpect(t, addr, "paired")
		a.expect("paired")
		c := joinAndExpect(t, addr, "waiting")

		require.NoError(t, a.c.Close(wsproto.CloseNormalClosure, "bye"))
		b.expect("left")
		b.expect("paired")
		c.expect("paired")
		c.say("hi b")
		b.hear("hi b")
		b.say("hi c")
		c.hear("hi c")

		// Alone again: b waits.
		require.NoError(t, c.c.CloseNow())
		b.expect("left")
		b.expect("waiting")
	})

	t.Run("next", func(t *testing.T) {
		s, addr, _ := startRoulette(t)
		a := joinAndExpect(t, addr, "waiting")
		b := joinAndExpect(t, addr, "paired")
		a.expect("paired")
		c := joinAndExpect(t, addr, "waiting")

		a.next()
		a.expect("paired") // with c, not b again
		c.expect("paired")
		b.expect("left")
		b.expect("waiting")
		a.say("hi c")
		c.hear("hi c")

		// With no one else free, next gives the same partner back.
		require.NoError(t, b.c.Close(wsproto.CloseNormalClosure, ""))
		waitFree(t, s, 0)
		c.next()
		c.expect("paired")
		a.expect("left")
		a.expect("paired")
		c.say("again")
		a.hear("again")
	})

	t.Run("a stuck partner does not hold up the others", func(t *testing.T) {
		// b sends faster than its budget would let it, to fill stuck's
		// queue quickly.
		_, addr, _ := startRoulette(t, func(s *server) { s.limits = fair.Limits{} })
		joinAndExpect(t, addr, "waiting") // stuck: it never reads again
		b := joinAndExpect(t, addr, "paired")
		c := joinAndExpect(t, addr, "waiting")
		d := joinAndExpect(t, addr, "paired")
		c.expect("paired")

		// b's messages pile up in the socket buffers, then in stuck's
		// queue, which overflows: stuck is dropped and b is told.
		left := make(chan error, 1)
		go func() {
			for {
				m, err := b.read()
				if err != nil || m.Type == "left" {
					left <- err
					return
				}
			}
		}()
		long := strings.Repeat("x", maxTextRunes)
		msg, _ := json.Marshal(wireMessage{Type: "message", Text: &long})
		deadline := time.After(testTimeout)
		sent := 0
	flood:
		for {
			select {
			case err := <-left:
				require.NoError(t, err, "sent %d", sent)
				break flood
			case <-deadline:
				t.Fatalf("the stuck client was not dropped, sent %d", sent)
			default:
				require.NoError(t, b.c.WriteMessage(context.Background(), wsproto.MessageText, msg))
				sent++
			}
			// c and d talk all along.
			c.say("ping")
			d.hear("ping")
		}
		b.expect("waiting")
	})
}

func TestRouletteRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		send func(p *peer)
		code wsproto.CloseCode
	}{
		{"not JSON", func(p *peer) { p.sendRaw("hello") }, wsproto.ClosePolicyViolation},
		{"not an object", func(p *peer) { p.sendRaw(`["message"]`) }, wsproto.ClosePolicyViolation},
		{"unknown type", func(p *peer) { p.sendRaw(`{"type":"dance"}`) }, wsproto.ClosePolicyViolation},
		{"no type", func(p *peer) { p.sendRaw(`{"text":"hi"}`) }, wsproto.ClosePolicyViolation},
		{"message without text", func(p *peer) { p.sendRaw(`{"type":"message"}`) }, wsproto.ClosePolicyViolation},
		{"text not a string", func(p *peer) { p.sendRaw(`{"type":"message","text":5}`) }, wsproto.ClosePolicyViolation},
		{"text too long", func(p *peer) { p.say(strings.Repeat("é", maxTextRunes+1)) }, wsproto.ClosePolicyViolation},
		{"binary", func(p *peer) {
			require.NoError(t, p.c.WriteMessage(context.Background(), wsproto.MessageBinary, []byte(`{"type":"next"}`)))
		}, wsproto.CloseUnsupportedData},
		{"over the read limit", func(p *peer) { p.sendRaw(strings.Repeat(" ", readLimit+1)) }, wsproto.CloseMessageTooBig},
	}
	_, addr, _ := startRoulette(t)
	partner := joinAndExpect(t, addr, "waiting")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := joinAndExpect(t, addr, "paired")
			partner.expect("paired")
			tt.send(p)
			p.closedWith(tt.code)
			partner.expect("left")
			partner.expect("waiting")
		})
	}

	t.Run("2000 characters pass", func(t *testing.T) {
		p := joinAndExpect(t, addr, "paired")
		partner.expect("paired")
		text := strings.Repeat("é", maxTextRunes)
		p.say(text)
		partner.hear(text)
		p.say("")
		partner.hear("")
	})
}

func TestRouletteShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	_, addr, stop := startRoulette(t)
	a := joinAndExpect(t, addr, "waiting")
	b := join(t, addr, &wsproto.DialOptions{Compression: &wsproto.CompressionOptions{}})
	b.expect("paired")
	a.expect("paired")
	c := joinAndExpect(t, addr, "waiting")
	a.say("hi")
	b.hear("hi")

	// The clients read, as a browser does, so that they answer the close.
	ends := make(chan error, 3)
	for _, p := range []*peer{a, b, c} {
		go func() {
			for {
				if _, err := p.read(); err != nil {
					ends <- err
					return
				}
			}
		}()
	}
	require.NoError(t, stop())
	for range 3 {
		assert.Equal(t, wsproto.CloseGoingAway, wsproto.CloseStatus(<-ends))
	}

	// A newcomer finds no one listening.
	_, _, err := wsproto.Dial(context.Background(), "ws://"+addr+"/ws", nil)
	require.Error(t, err)

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(testTimeout); runtime.NumGoroutine() > before && time.Now().Before(deadline); <-tick.C {
	}
	if now := runtime.NumGoroutine(); now > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after:\n%s", before, now, buf[:runtime.Stack(buf, true)])
	}
}

func TestRoulettePage(t *testing.T) {
	_, addr, _ := startRoulette(t)
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	resp, html := get("/")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	for _, want := range []string{
		`<span id="status">connecting</span>`,
		`<input id="input"`,
		`<button id="send"`,
		`>Send</button>`,
		`<button id="next">Next</button>`,
		`<ul id="messages">`,
		`<script src="/roulette.js">`,
	} {
		assert.Contains(t, html, want)
	}

	resp, js := get("/roulette.js")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	for _, want := range []string{
		`(location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws'`,
		`"waiting for a partner"`,
		`"closed (" + e.code + ")"`,
		`"partner: " + m.text`,
		`"you: " + text`,
		`"partner left"`,
		`"paired with a new partner"`,
	} {
		assert.Contains(t, js, want)
	}
	for _, body := range []string{html, js} {
		assert.NotContains(t, body, "innerHTML")
		assert.NotContains(t, body, "http://")
		assert.NotContains(t, body, "https://")
	}

	resp, _ = get("/nope")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// The socket takes browsers from the page's own origin only.
	_, resp, err := wsproto.Dial(context.Background(), "ws://"+addr+"/ws", &wsproto.DialOptions{Origin: "https://evil.example"})
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	c, _, err := wsproto.Dial(context.Background(), "ws://"+addr+"/ws", &wsproto.DialOptions{Origin: "http://" + addr})
	require.NoError(t, err)
	_ = c.CloseNow()
}
