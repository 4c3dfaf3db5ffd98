//go:build !js

package chatroom

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

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

// Options configures a Server; the zero value is a chat in one process.
type Options struct {
	// Log receives the server's log; nil discards it.
	Log *slog.Logger
	// Heartbeat is applied to every connection: a member whose network
	// vanished is dropped, and leaves the room.
	Heartbeat graceful.Heartbeat
	// Bus carries the rooms between the servers that share them; nil is
	// a NewLocalBus, for a chat in this process alone.
	Bus Bus
	// PresenceRefresh is how often Serve refreshes the claims of its
	// members' names, for a Bus whose claims expire; zero never does.
	PresenceRefresh time.Duration
}

// Server is a chat's HTTP side: the page, the WebSocket endpoint and the
// API, in front of a hub of the rooms that have members on it.
type Server struct {
	log     *slog.Logger
	hub     *hub
	opts    *wsproto.UpgradeOptions
	limits  fair.Limits // each WebSocket client's budget
	refresh time.Duration

	apiMu     sync.Mutex
	apiBudget *fair.Budget // the HTTP API's, shared by all its callers
}

// New returns a chat server.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Bus == nil {
		o.Bus = NewLocalBus()
	}
	s := &Server{log: o.Log, hub: newHub(o.Log, o.Bus), limits: fair.Default, refresh: o.PresenceRefresh, opts: &wsproto.UpgradeOptions{
		ReadLimit: maxInbound,
		// A compressor without context takeover starts afresh with every
		// message, so a message compresses to the same bytes for every
		// connection of the same window and level: a PreparedMessage is
		// compressed once and its frame shared by all. With takeover,
		// each connection's compressor would carry its own history and
		// have to compress every message again.
		Compression: &wsproto.CompressionOptions{ServerNoContextTakeover: true},
	}}
	o.Heartbeat.Apply(s.opts)
	s.apiBudget = fair.New(fair.Default)
	return s
}

// Serve runs the chat on ln until ctx ends, then closes every connection
// with 1001 going away and returns once all have ended.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.refresh > 0 {
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.hub.keepPresent(rctx, s.refresh)
		}()
		defer func() { stop(); <-done }()
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return graceful.Serve(ctx, srv, ln, func() {
		s.log.Info("shutting down")
		// A member that does not answer the close within the grace is
		// cut, so that no peer can hold the shutdown.
		peers := s.hub.shutdown()
		cut := time.AfterFunc(graceful.CloseGrace, func() {
			for _, p := range peers {
				_ = p.CloseNow()
			}
		})
		s.hub.wait()
		cut.Stop()
	})
}

// Handler returns the chat's routes.
func (s *Server) Handler() http.Handler {
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

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
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

func (s *Server) script(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(chatJS)
}

// websocket upgrades a request to join a room and serves the member on a
// goroutine of its own, letting net/http's goroutine for the request end:
// an idle member costs a quarter of what it would if served here (see
// wsproto.Handler).
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
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
func (s *Server) member(conn *wsproto.Conn, r *http.Request, roomName string) {
	defer conn.CloseNow()
	name := r.URL.Query().Get("name")
	if err := checkName(name); err != nil {
		graceful.Close(conn, wsproto.ClosePolicyViolation, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	c, first, err := s.hub.join(ctx, roomName, name, conn)
	cancel()
	switch {
	case errors.Is(err, errShuttingDown):
		graceful.CloseAll([]*wsproto.Conn{conn}, func() {})
		return
	case errors.Is(err, errNoName):
		graceful.Close(conn, wsproto.ClosePolicyViolation, err.Error())
		return
	case err != nil:
		s.log.Warn("join failed", "room", roomName, "err", err)
		graceful.Close(conn, wsproto.CloseTryAgainLater, "the chat is unavailable; try again")
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
func (s *Server) read(conn *wsproto.Conn, c *client) error {
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

func (s *Server) listRooms(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), busTimeout)
	defer cancel()
	rooms, err := s.hub.bus.Rooms(ctx)
	if err != nil {
		s.log.Warn("listing rooms", "err", err)
		http.Error(w, "the chat is unavailable; try again", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(encode(rooms))
}

// postMessage posts {"name":...,"text":...} into a room: 202 Accepted, 400
// for a body that is not such an object or whose name or text is not
// valid, 409 if a member of the room has that name, 413 for a body over
// maxInbound bytes, 429 once the API's budget (shared by all its callers,
// fair.Default) is spent. The message goes out marked as posted through the API
// ("via":"api"), and the page shows it so: no one can speak as a member,
// present or not.
func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
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
	ctx, cancel := context.WithTimeout(r.Context(), busTimeout)
	defer cancel()
	switch err := s.hub.post(ctx, roomName, name, m.Text); {
	case err == nil:
	case errors.Is(err, ErrNameTaken):
		http.Error(w, err.Error(), http.StatusConflict)
		return
	case errors.Is(err, errShuttingDown):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	default:
		s.log.Warn("post failed", "room", roomName, "err", err)
		http.Error(w, errNotSent, http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
