//go:build !js

package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/db7c6739/ws/examples/internal/fair"
	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/db7c6739/ws/wsproto"
)

var (
	//go:embed index.html
	page []byte
	//go:embed roulette.js
	script []byte
)

const (
	// maxTextRunes bounds the text of one chat message.
	maxTextRunes = 2000
	// readLimit bounds a client's message in bytes: room for maxTextRunes
	// runes written as JSON escapes (up to 12 bytes each, a surrogate
	// pair) and the object around them.
	readLimit = 32 << 10
	// defaultQueueSize is how many messages may wait for a client's writer.
	defaultQueueSize = 64
	// defaultWriteTimeout bounds the write of one message to a client.
	defaultWriteTimeout = 10 * time.Second
)

// wireMessage is the JSON object of the protocol, both ways.
type wireMessage struct {
	Type string  `json:"type"`
	Text *string `json:"text,omitempty"`
}

var notices = map[notice][]byte{
	noticeWaiting: []byte(`{"type":"waiting"}`),
	noticePaired:  []byte(`{"type":"paired"}`),
	noticeLeft:    []byte(`{"type":"left"}`),
}

// client is one connection. Whatever is sent to it goes through a bounded
// queue that its own writer goroutine drains, so that telling a client
// something never blocks the hub, nor the partner whose message it is: a
// client whose queue is full, or whose write of one message takes longer
// than the write timeout, is too slow to chat and is disconnected.
type client struct {
	log    *slog.Logger
	remote string
	conn   *wsproto.Conn
	out    chan []byte
	ctx    context.Context // ends when the connection must end
	cancel context.CancelFunc
}

// send queues msg without blocking. A full queue ends the connection:
// cancelling the context tears down the read and write in progress.
func (c *client) send(msg []byte) {
	select {
	case c.out <- msg:
	default:
		if c.ctx.Err() == nil {
			c.log.Info("client too slow, dropped", "remote", c.remote)
		}
		c.cancel()
	}
}

// writeLoop writes the queued messages until the client's context ends or
// a write fails. A failed write needs nothing more: either the connection
// is closing already, or the timeout has torn it down, which ends the read
// in progress too.
func (c *client) writeLoop(timeout time.Duration) {
	for {
		select {
		case <-c.ctx.Done():
			return
		case msg := <-c.out:
			ctx, cancel := context.WithTimeout(c.ctx, timeout)
			err := c.conn.WriteMessage(ctx, wsproto.MessageText, msg)
			cancel()
			if err != nil {
				return
			}
		}
	}
}

// hub holds the matcher and tells clients what it decides. Events are
// queued under the lock, so every client sees them in the order they
// happened, and a partner's message is never queued after the notice that
// the partner left.
type hub struct {
	mu sync.Mutex
	m  *matcher[*client]
}

func (h *hub) join(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tell(h.m.Join(c))
}

func (h *hub) leave(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tell(h.m.Leave(c))
}

func (h *hub) next(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tell(h.m.Next(c))
}

// relay passes text to from's partner. Without one, the text is dropped:
// from has been told it waits, and answering each message would let a
// client fill its own queue.
func (h *hub) relay(from *client, text string) {
	msg, _ := json.Marshal(wireMessage{Type: "message", Text: &text})
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.m.Partner(from); ok {
		p.send(msg)
	}
}

func (h *hub) tell(evs []event[*client]) {
	for _, e := range evs {
		e.To.send(notices[e.What])
	}
}

// server serves the page and the chat socket and keeps track of the
// connections, for shutdown.
type server struct {
	log          *slog.Logger
	opts         *wsproto.UpgradeOptions
	mux          *http.ServeMux
	hub          hub
	queueSize    int
	writeTimeout time.Duration
	limits       fair.Limits // each client's budget: messages and "next"s
	conns        graceful.Conns
}

// newServer returns a roulette whose connections have the heartbeat hb: a
// visitor whose network vanished is dropped, and its partner freed.
func newServer(log *slog.Logger, hb graceful.Heartbeat) *server {
	s := &server{
		log: log,
		opts: &wsproto.UpgradeOptions{
			ReadLimit:   readLimit,
			Compression: &wsproto.CompressionOptions{},
		},
		mux:          http.NewServeMux(),
		hub:          hub{m: newMatcher[*client]()},
		queueSize:    defaultQueueSize,
		writeTimeout: defaultWriteTimeout,
		limits:       fair.Default,
	}
	hb.Apply(s.opts)
	s.mux.HandleFunc("GET /{$}", serveFile(page, "text/html; charset=utf-8"))
	s.mux.HandleFunc("GET /roulette.js", serveFile(script, "text/javascript; charset=utf-8"))
	// Each connection is served on a goroutine of its own, and net/http's
	// for the request ends: an idle visitor costs a quarter of what it
	// would if served in the handler (see wsproto.Handler).
	s.mux.Handle("GET /ws", s.conns.Handler(s.opts, s.chat))
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func serveFile(b []byte, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Security-Policy", "script-src 'self'; object-src 'none'; base-uri 'none'")
		_, _ = w.Write(b)
	}
}

// chat runs one client from upgrade to goodbye.
func (s *server) chat(conn *wsproto.Conn, r *http.Request) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{log: s.log, remote: r.RemoteAddr, conn: conn, out: make(chan []byte, s.queueSize), ctx: ctx, cancel: cancel}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop(s.writeTimeout)
	}()
	s.log.Debug("joined", "remote", r.RemoteAddr)
	s.hub.join(c)
	err := s.read(c)
	s.hub.leave(c)
	cancel()
	<-writerDone
	_ = conn.CloseNow()
	s.log.Debug("left", "remote", r.RemoteAddr, "err", err)
}

// read handles the client's messages until the connection ends. A message
// that breaks the protocol (not JSON, unknown type, text missing or too
// long) closes the connection with 1008, a binary one with 1003: the page
// never sends them, so whoever does is not worth an error reply.
func (s *server) read(c *client) error {
	budget := fair.New(s.limits)
	// A wait for the budget ends with the client, or as the server shuts
	// down; reads end when the connection is closed.
	wait, stop := context.WithCancel(c.ctx)
	defer stop()
	defer context.AfterFunc(s.conns.Closing(), stop)()
	var buf []byte
	for {
		typ, msg, err := c.conn.ReadMessage(c.ctx, buf)
		if err != nil {
			return err
		}
		buf = msg
		if err := budget.Spend(wait, len(msg)); err != nil {
			return err
		}
		if typ != wsproto.MessageText {
			return c.conn.Close(wsproto.CloseUnsupportedData, "binary messages are not accepted")
		}
		var in wireMessage
		if err := json.Unmarshal(msg, &in); err != nil {
			return c.conn.Close(wsproto.ClosePolicyViolation, "invalid JSON")
		}
		switch in.Type {
		case "message":
			if in.Text == nil {
				return c.conn.Close(wsproto.ClosePolicyViolation, "message without text")
			}
			if utf8.RuneCountInString(*in.Text) > maxTextRunes {
				return c.conn.Close(wsproto.ClosePolicyViolation, "text longer than 2000 characters")
			}
			s.hub.relay(c, *in.Text)
		case "next":
			s.hub.next(c)
		default:
			return c.conn.Close(wsproto.ClosePolicyViolation, "unknown message type")
		}
	}
}
