package main

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/db7c6739/ws/wsproto"
)

const (
	// historyLen is how many chat messages a room keeps for newcomers.
	historyLen = 50
	// sendQueueLen is how many messages may wait for a client's writer;
	// a client that lets more pile up is dropped.
	sendQueueLen = 64
	// writeTimeout bounds each write, so that a peer that stopped reading
	// cannot hold its writer goroutine for ever.
	writeTimeout = 10 * time.Second
	// defaultMaxIdleRooms is how many rooms without members are kept for
	// their history; beyond it the one idle longest is forgotten.
	defaultMaxIdleRooms = 100
)

// A client whose send queue is full is dropped with close 1008: it broke
// the server's policy of keeping up. 1013 (try again later) would blame
// the server, which is not overloaded.
const (
	closeTooSlow  = wsproto.ClosePolicyViolation
	reasonTooSlow = "too slow: send queue full"
)

var (
	errShuttingDown = errors.New("chat: server shutting down")
	errNameTaken    = errors.New("name: a member of the room has this name")
)

// peer is what the hub needs of a connection: *wsproto.Conn, or a stand-in
// in the hub's tests.
type peer interface {
	WritePrepared(ctx context.Context, m *wsproto.PreparedMessage) error
	Close(code wsproto.CloseCode, reason string) error
	CloseNow() error
}

// hub holds the rooms and their members. Every change of membership and
// every broadcast happens under its mutex, so all members of a room see
// the same events in the same order; a broadcast only queues (it never
// waits for a client), so holding the mutex for it is cheap.
type hub struct {
	log     *slog.Logger
	maxIdle int

	mu        sync.Mutex
	rooms     map[string]*room
	idleRooms int // rooms without members, kept for their history
	closing   bool
	active    int        // connections being served, for wait
	done      *sync.Cond // signalled when active drops to 0
}

// room is a set of members under unique names, and the room's history.
// A room lives while it has members or history; one with neither is
// removed at once.
type room struct {
	name    string
	members map[string]*client // by nameKey of their names
	history [][]byte           // the last historyLen chat messages as JSON, oldest first
	// replay is the history event, prepared when a newcomer first needs
	// it after a change: newcomers between two messages share one
	// encoding.
	replay     *wsproto.PreparedMessage
	lastActive time.Time // when a room without members was last used
}

// client is one member of a room. A writer goroutine sends what the hub
// queues on send; the connection's handler reads.
type client struct {
	peer peer
	name string
	key  string // nameKey(name), its key in room.members
	room *room
	send chan *wsproto.PreparedMessage
	// ctx ends when the hub stops the client: its writer stops, and its
	// reader stops waiting for its budget.
	ctx  context.Context
	stop context.CancelFunc

	stopped bool // stop was called; guarded by hub.mu
	closing bool // a closing handshake was started; guarded by hub.mu
	// bg counts the writer and the closing handshake, which the handler
	// waits for; the hub adds to it only under its mutex while the client
	// is a member, before the handler's leave.
	bg sync.WaitGroup
}

func newHub(log *slog.Logger) *hub {
	h := &hub{log: log, maxIdle: defaultMaxIdleRooms, rooms: map[string]*room{}}
	h.done = sync.NewCond(&h.mu)
	return h
}

// join adds a member named name (or a guest name if name is empty, with a
// suffix if the name is taken) to the room, creating it if need be, and
// tells the others. It returns the client and what its writer must send
// first, before anything queued: the welcome and the history. Both are
// decided under the hub's lock, with the membership, so that a newcomer
// misses no message and sees none twice.
func (h *hub) join(roomName, name string, p peer) (*client, []*wsproto.PreparedMessage, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil, nil, errShuttingDown
	}
	r := h.rooms[roomName]
	switch {
	case r == nil:
		r = &room{name: roomName, members: map[string]*client{}}
		h.rooms[roomName] = r
	case len(r.members) == 0:
		h.idleRooms--
	}
	name = r.uniqueName(name)
	ctx, stop := context.WithCancel(context.Background())
	c := &client{
		ctx:  ctx,
		stop: stop,
		peer: p,
		name: name,
		key:  nameKey(name),
		room: r,
		send: make(chan *wsproto.PreparedMessage, sendQueueLen),
	}
	// c joins before the notice goes out, so that the room cannot empty
	// (and be removed) if the notice drops every other member.
	r.members[c.key] = c
	h.broadcastLocked(r, prepare(encode(noticeEvent{Type: "join", Name: c.name})), c)
	welcome := prepare(encode(welcomeEvent{Type: "welcome", Name: c.name, Room: r.name, Members: r.memberNames()}))
	return c, []*wsproto.PreparedMessage{welcome, r.historyEvent()}, nil
}

// leave removes c from its room and tells the others, unless c was
// dropped already or the server is shutting down.
func (h *hub) leave(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing || c.room.members[c.key] != c {
		return
	}
	h.removeLocked(c)
	h.broadcastLocked(c.room, prepare(encode(noticeEvent{Type: "leave", Name: c.name})), nil)
}

// say posts text from member c into its room; it does nothing if c has
// been dropped meanwhile.
func (h *hub) say(c *client, text string) {
	raw := encode(newChatEvent(c.name, text))
	m := prepare(raw)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing || c.room.members[c.key] != c {
		return
	}
	h.publishLocked(c.room, raw, m)
}

// post posts text under name into a room, which need not have members:
// the message then waits in its history. It is marked as coming from the
// API, and refused with errNameTaken if a member has that name.
func (h *hub) post(roomName, name, text string) error {
	ev := newChatEvent(name, text)
	ev.Via = "api"
	raw := encode(ev)
	m := prepare(raw)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return errShuttingDown
	}
	r := h.rooms[roomName]
	if r != nil && r.members[nameKey(name)] != nil {
		return errNameTaken
	}
	if r == nil {
		r = &room{name: roomName, members: map[string]*client{}}
		h.rooms[roomName] = r
		h.idleRooms++
	}
	h.publishLocked(r, raw, m)
	if len(r.members) == 0 {
		r.lastActive = time.Now()
		h.evictLocked()
	}
	return nil
}

// reply sends an error event to c alone.
func (h *hub) reply(c *client, text string) {
	m := prepare(encode(errorEvent{Type: "error", Text: text}))
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing || c.room.members[c.key] != c {
		return
	}
	select {
	case c.send <- m:
	default:
		h.dropLocked(c.room, []*client{c})
	}
}

func newChatEvent(name, text string) chatEvent {
	return chatEvent{Type: "message", Name: name, Text: text, Time: time.Now().UTC().Format(time.RFC3339)}
}

// publishLocked records a chat message in r's history and sends it to
// every member, the sender included.
func (h *hub) publishLocked(r *room, raw []byte, m *wsproto.PreparedMessage) {
	if len(r.history) == historyLen {
		copy(r.history, r.history[1:])
		r.history = r.history[:historyLen-1]
	}
	r.history = append(r.history, raw)
	r.replay = nil
	h.broadcastLocked(r, m, nil)
}

// broadcastLocked queues m for every member of r but except, without
// waiting: a member whose queue is full is dropped.
func (h *hub) broadcastLocked(r *room, m *wsproto.PreparedMessage, except *client) {
	if slow := deliverLocked(r, m, except, nil); len(slow) > 0 {
		h.dropLocked(r, slow)
	}
}

// deliverLocked queues m for the members of r but except, and appends
// those whose queues are full to slow.
func deliverLocked(r *room, m *wsproto.PreparedMessage, except *client, slow []*client) []*client {
	for _, c := range r.members {
		if c == except {
			continue
		}
		select {
		case c.send <- m:
		default:
			slow = append(slow, c)
		}
	}
	return slow
}

// dropLocked removes the members of r in slow, which could not keep up,
// closes them with closeTooSlow and tells the others they left, which may
// find more members that cannot keep up.
func (h *hub) dropLocked(r *room, slow []*client) {
	for len(slow) > 0 {
		c := slow[len(slow)-1]
		slow = slow[:len(slow)-1]
		if r.members[c.key] != c {
			continue // listed twice, or gone
		}
		h.log.Info("dropping slow client", "room", r.name, "name", c.name)
		h.removeLocked(c)
		h.closeLocked(c, closeTooSlow, reasonTooSlow)
		slow = deliverLocked(r, prepare(encode(noticeEvent{Type: "leave", Name: c.name})), nil, slow)
	}
}

// removeLocked takes c out of its room and stops its writer. A room left
// without members is removed, or kept for its history.
func (h *hub) removeLocked(c *client) {
	r := c.room
	delete(r.members, c.key)
	h.stopLocked(c)
	if len(r.members) > 0 {
		return
	}
	if len(r.history) == 0 {
		delete(h.rooms, r.name)
		return
	}
	r.lastActive = time.Now()
	h.idleRooms++
	h.evictLocked()
}

// evictLocked forgets the rooms without members that were idle longest,
// so that at most maxIdle are kept.
func (h *hub) evictLocked() {
	for h.idleRooms > h.maxIdle {
		var oldest *room
		for _, r := range h.rooms {
			if len(r.members) == 0 && (oldest == nil || r.lastActive.Before(oldest.lastActive)) {
				oldest = r
			}
		}
		delete(h.rooms, oldest.name)
		h.idleRooms--
	}
}

func (h *hub) stopLocked(c *client) {
	if !c.stopped {
		c.stopped = true
		c.stop()
	}
}

// closeLocked starts the closing handshake of c's connection on a
// goroutine of its own: Close waits for the peer (up to its close
// timeout), which a broadcast must not.
func (h *hub) closeLocked(c *client, code wsproto.CloseCode, reason string) {
	if c.closing {
		return
	}
	c.closing = true
	c.bg.Go(func() {
		if err := c.peer.Close(code, reason); err != nil {
			h.log.Debug("close", "room", c.room.name, "name", c.name, "err", err)
		}
	})
}

// writeLoop is c's writer: it sends first, then what is queued, until the
// hub stops it or a write fails.
func (h *hub) writeLoop(c *client, first []*wsproto.PreparedMessage) {
	for _, m := range first {
		if !h.write(c, m) {
			return
		}
	}
	for {
		select {
		case <-c.ctx.Done():
			return
		case m := <-c.send:
			select {
			case <-c.ctx.Done(): // stopping wins over what is queued
				return
			default:
			}
			if !h.write(c, m) {
				return
			}
		}
	}
}

func (h *hub) write(c *client, m *wsproto.PreparedMessage) bool {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	err := c.peer.WritePrepared(ctx, m)
	cancel()
	if err == nil {
		return true
	}
	h.log.Debug("write failed", "room", c.room.name, "name", c.name, "err", err)
	select {
	case <-c.ctx.Done(): // the hub is closing the connection
	default:
		_ = c.peer.CloseNow() // ends the handler's read, which leaves
	}
	return false
}

// shutdown refuses new members and messages and starts closing every
// connection with 1001 going away; it returns their peers.
func (h *hub) shutdown() []peer {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closing = true
	var peers []peer
	for _, r := range h.rooms {
		for _, c := range r.members {
			h.stopLocked(c)
			h.closeLocked(c, wsproto.CloseGoingAway, "server shutting down")
			peers = append(peers, c.peer)
		}
	}
	h.rooms = map[string]*room{}
	h.idleRooms = 0
	return peers
}

// begin and end bracket the handling of a WebSocket request; wait returns
// when none is left.
func (h *hub) begin() {
	h.mu.Lock()
	h.active++
	h.mu.Unlock()
}

func (h *hub) end() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.active--; h.active == 0 {
		h.done.Broadcast()
	}
}

func (h *hub) wait() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.active > 0 {
		h.done.Wait()
	}
}

// roomInfo is an entry of GET /api/rooms.
type roomInfo struct {
	Room    string `json:"room"`
	Members int    `json:"members"`
}

// list returns the rooms that have members, by name.
func (h *hub) list() []roomInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []roomInfo{}
	for _, r := range h.rooms {
		if len(r.members) > 0 {
			out = append(out, roomInfo{r.name, len(r.members)})
		}
	}
	slices.SortFunc(out, func(a, b roomInfo) int { return strings.Compare(a.Room, b.Room) })
	return out
}

func (r *room) memberNames() []string {
	names := make([]string, 0, len(r.members))
	for _, c := range r.members {
		names = append(names, c.name)
	}
	slices.Sort(names)
	return names
}

// historyEvent returns {"type":"history","messages":[...]}, made from the
// stored JSON of each message without encoding any of them again.
func (r *room) historyEvent() *wsproto.PreparedMessage {
	if r.replay == nil {
		b := []byte(`{"type":"history","messages":[`)
		for i, m := range r.history {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, m...)
		}
		r.replay = prepare(append(b, "]}"...))
	}
	return r.replay
}

// uniqueName returns want, or "guest-NNNN" if want is empty, made unique
// in r with a suffix ("alice-2") and kept within maxNameRunes. Names are
// unique by nameKey: "Alice" is taken once "alice" is in.
func (r *room) uniqueName(want string) string {
	if want == "" {
		for range 10 {
			n := "guest-" + strconv.Itoa(1000+rand.IntN(9000))
			if r.members[nameKey(n)] == nil {
				return n
			}
		}
		want = "guest"
	}
	if r.members[nameKey(want)] == nil {
		return want
	}
	for i := 2; ; i++ {
		suffix := "-" + strconv.Itoa(i)
		n := strings.TrimRightFunc(truncate(want, maxNameRunes-len(suffix)), unicode.IsSpace) + suffix
		if r.members[nameKey(n)] == nil {
			return n
		}
	}
}

// truncate returns the first n runes of s.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
