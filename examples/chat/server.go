package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/db7c6739/ws/examples/internal/fair"
	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/db7c6739/ws/wsproto"
)

var (
	//go:embed index.html
	indexHTML []byte
	//go:embed chat.js
	chatJS []byte
)

// pageCSP lets the page run its own script and style and open WebSockets,
// and nothing else: no script a peer could smuggle in would run.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'"

// server is the chat's HTTP side: the page, the WebSocket endpoint and the
// API, in front of a hub.
type server struct {
	log    *slog.Logger
	hub    *hub
	opts   *wsproto.UpgradeOptions
	limits fair.Limits // each WebSocket client's budget

	apiMu     sync.Mutex
	apiBudget *fair.Budget // the HTTP API's, shared by all its callers
}

// newServer returns a chat whose connections have the heartbeat hb: a
// member whose network vanished is dropped, and leaves the room.
func newServer(log *slog.Logger, hb graceful.Heartbeat) *server {
	s := &server{log: log, hub: newHub(log), limits: fair.Default, opts: &wsproto.UpgradeOptions{
		ReadLimit: maxInbound,
		// A compressor without context takeover starts afresh with every
		// message, so a message compresses to the same bytes for every
		// connection of the same window and level: a PreparedMessage is
		// compressed once and its frame shared by all. With takeover,
		// each connection's compressor would carry its own history and
		// have to compress every message again.
		Compression: &wsproto.CompressionOptions{ServerNoContextTakeover: true},
	}}
	hb.Apply(s.opts)
	s.apiBudget = fair.New(fair.Default)
	return s
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		target := "/chats/lobby"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
	mux.HandleFunc("GET /chats/{room}", s.page)
	mux.HandleFunc("GET /chat.js", s.script)
	mux.HandleFunc("GET /chats/{room}/ws", s.websocket)
	mux.HandleFunc("GET /api/rooms", s.listRooms)
	mux.HandleFunc("POST /api/rooms/{room}/messages", s.postMessage)
	return mux
}

func (s *server) page(w http.ResponseWriter, r *http.Request) {
	if !validRoom(r.PathValue("room")) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(indexHTML)
}

func (s *server) script(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(chatJS)
}

// websocket upgrades a request to join a room and serves the member on a
// goroutine of its own, letting net/http's goroutine for the request end:
// an idle member costs a quarter of what it would if served here (see
// wsproto.Handler).
func (s *server) websocket(w http.ResponseWriter, r *http.Request) {
	roomName := r.PathValue("room")
	if !validRoom(roomName) {
		http.NotFound(w, r)
		return
	}
	// Counted before the upgrade, while http.Server.Shutdown still waits
	// for this request, so that hub.wait cannot miss it.
	s.hub.begin()
	conn, err := wsproto.Upgrade(w, r, s.opts)
	if err != nil {
		s.hub.end()
		s.log.Info("upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	go func() {
		defer s.hub.end()
		s.member(conn, r, roomName)
	}()
}

// member serves one member of a room: this goroutine reads, a writer
// goroutine writes what the hub queues.
func (s *server) member(conn *wsproto.Conn, r *http.Request, roomName string) {
	defer conn.CloseNow()
	name := r.URL.Query().Get("name")
	if err := checkName(name); err != nil {
		graceful.Close(conn, wsproto.ClosePolicyViolation, err.Error())
		return
	}
	c, first, err := s.hub.join(roomName, name, conn)
	if err != nil {
		graceful.CloseAll([]*wsproto.Conn{conn}, func() {})
		return
	}
	log := s.log.With("room", roomName, "name", c.name, "remote", r.RemoteAddr)
	log.Info("joined")
	c.bg.Go(func() { s.hub.writeLoop(c, first) })
	err = s.read(conn, c)
	s.hub.leave(c)
	c.bg.Wait()
	log.Info("left", "err", err)
}

// read takes messages from c until the connection ends. A message that is
// not valid is answered with an error event; the connection stays open.
// Each message is paid for from the client's budget before the next is
// read, so that a client sending more than its share is slowed down, by
// TCP's backpressure, and the others are not.
func (s *server) read(conn *wsproto.Conn, c *client) error {
	budget := fair.New(s.limits)
	var buf []byte
	for {
		typ, p, err := conn.ReadMessage(context.Background(), buf)
		if err != nil {
			return err
		}
		buf = p
		if err := budget.Spend(c.ctx, len(p)); err != nil {
			return err
		}
		text, err := parseClientMessage(typ, p)
		if err != nil {
			s.hub.reply(c, err.Error())
			continue
		}
		s.hub.say(c, text)
	}
}

func (s *server) listRooms(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(encode(s.hub.list()))
}

// postMessage posts {"name":...,"text":...} into a room: 202 Accepted, 400
// for a body that is not such an object or whose name or text is not
// valid, 409 if a member of the room has that name, 413 for a body over
// maxInbound bytes, 429 once the API's budget (shared by all its callers,
// fair.Default) is spent. The message goes out marked as posted through the API
// ("via":"api"), and the page shows it so: no one can speak as a member,
// present or not.
func (s *server) postMessage(w http.ResponseWriter, r *http.Request) {
	roomName := r.PathValue("room")
	if !validRoom(roomName) {
		http.NotFound(w, r)
		return
	}
	var m apiMessage
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxInbound))
	err := dec.Decode(&m)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			err = nil
		} else if err == nil {
			err = errors.New("data after the JSON object")
		}
	}
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.apiMu.Lock()
	ok := s.apiBudget.Allow(len(m.Text))
	s.apiMu.Unlock()
	if !ok {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many messages: try again later", http.StatusTooManyRequests)
		return
	}
	err = checkName(m.Name)
	if err == nil {
		err = checkText(m.Text)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	name := m.Name
	if name == "" {
		name = "api"
	}
	switch err := s.hub.post(roomName, name, m.Text); err {
	case nil:
	case errNameTaken:
		http.Error(w, err.Error(), http.StatusConflict)
		return
	default:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
