//go:build !js

package chatroom

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
	// busTimeout bounds each call to the bus.
	busTimeout = 5 * time.Second
	// maxNameTries is how many names a join tries (alice, alice-2, ...)
	// before it gives up: each try asks the bus.
	maxNameTries = 20
	// refreshers is how many claims the presence refresh renews at once.
	refreshers = 32
	// maxEvent bounds a chat message taken from the bus: one of ours is
	// at most a client's text (maxInbound) in JSON.
	maxEvent = 4 * maxInbound
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
	errNoName       = errors.New("name: taken, and so are its variants")
	// What a member hears when the bus did not take its message, or did
	// not say in time that it did.
	errNotSent      = "not sent: the chat could not store the message; try again"
	errNotConfirmed = "not confirmed: the chat did not confirm storing the message in time; if it does not appear, send it again"
)

// peer is what the hub needs of a connection: *wsproto.Conn, or a stand-in
// in the hub's tests.
type peer interface {
	WritePrepared(ctx context.Context, m *wsproto.PreparedMessage) error
	Close(code wsproto.CloseCode, reason string) error
	CloseNow() error
}

// hub holds the rooms that have members on this server, and sends them
// what the bus delivers. Messages go out through the bus and come back from
// it, to the sender too, so every server's members see a room's messages
// in the order the bus stored them. Every change of local membership and
// every delivery happens under the hub's mutex, so a newcomer's history
// and what it is sent next neither overlap nor leave a gap; a delivery
// only queues (it never waits for a client), so holding the mutex for it
// is cheap. The hub never calls the bus with its mutex held: the bus calls
// back into it.
type hub struct {
	log *slog.Logger
	bus Bus

	mu      sync.Mutex
	rooms   map[string]*room
	closing bool
	active  int        // connections being served, for wait
	done    *sync.Cond // signalled when active drops to 0
}

// room is a room while this server follows it: while it has members here,
// or joins under way.
type room struct {
	name    string
	members map[string]*client // here, by nameKey of their names
	present map[string]string  // names on every server, by key, from the bus's Watch
	history [][]byte           // the last historyLen chat messages as JSON, oldest first
	// replay is the history event, prepared when a newcomer first needs
	// it after a change: newcomers between two messages share one
	// encoding.
	replay *wsproto.PreparedMessage

	users int           // joins under way and members that have not left
	ready chan struct{} // closed once the room is followed, or err is set
	err   error
	stops []func() // end the room's Follow and Watch
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
	// reader stops waiting for its budget or the bus.
	ctx  context.Context
	stop context.CancelFunc

	// claimMu orders the calls on the client's claim to the name: the
	// presence refresh and the release when it leaves.
	claimMu  sync.Mutex
	rev      uint64 // the claim's revision
	released bool

	stopped bool // stop was called; guarded by hub.mu
	closing bool // a closing handshake was started; guarded by hub.mu
	// bg counts the writer and the closing handshake, which the handler
	// waits for; the hub adds to it only under its mutex while the client
	// is a member, before the handler's leave.
	bg sync.WaitGroup
}

func newHub(log *slog.Logger, bus Bus) *hub {
	h := &hub{log: log, bus: bus, rooms: map[string]*room{}}
	h.done = sync.NewCond(&h.mu)
	return h
}

// join adds a member named want (or a guest name if want is empty, with a
// suffix if the name is taken) to the room. It returns the client and what
// its writer must send first, before anything queued: the welcome and the
// history. Both are decided under the hub's lock, with the membership, so
// that a newcomer misses no message and sees none twice.
func (h *hub) join(ctx context.Context, roomName, want string, p peer) (*client, []*wsproto.PreparedMessage, error) {
	h.mu.Lock()
	closing := h.closing
	h.mu.Unlock()
	if closing {
		return nil, nil, errShuttingDown
	}
	name, rev, err := h.claim(ctx, roomName, want)
	if err != nil {
		return nil, nil, err
	}
	key := nameKey(name)
	r, err := h.enter(ctx, roomName)
	if err != nil {
		h.release(roomName, key, rev)
		return nil, nil, err
	}
	h.mu.Lock()
	if h.closing {
		stops := h.exitLocked(r)
		h.mu.Unlock()
		runAll(stops)
		h.release(roomName, key, rev)
		return nil, nil, errShuttingDown
	}
	defer h.mu.Unlock()
	cctx, stop := context.WithCancel(context.Background())
	c := &client{
		ctx:  cctx,
		stop: stop,
		peer: p,
		name: name,
		key:  key,
		room: r,
		rev:  rev,
		send: make(chan *wsproto.PreparedMessage, sendQueueLen),
	}
	r.members[key] = c
	welcome := prepare(encode(welcomeEvent{Type: "welcome", Name: name, Room: r.name, Members: r.memberNames(c)}))
	return c, []*wsproto.PreparedMessage{welcome, r.historyEvent()}, nil
}

// claim claims want in the room, or the first of its variants that is
// free, and returns the name claimed.
func (h *hub) claim(ctx context.Context, roomName, want string) (string, uint64, error) {
	for i := range maxNameTries {
		name := variant(want, i)
		rev, err := h.bus.Claim(ctx, roomName, nameKey(name), name)
		if !errors.Is(err, ErrNameTaken) {
			return name, rev, err
		}
	}
	return "", 0, errNoName
}

// enter returns the room, followed, counting the caller as one of its
// users until exitLocked. The first to enter a room follows it for the
// others.
func (h *hub) enter(ctx context.Context, name string) (*room, error) {
	h.mu.Lock()
	r := h.rooms[name]
	first := r == nil
	if first {
		r = &room{name: name, members: map[string]*client{}, present: map[string]string{}, ready: make(chan struct{})}
		h.rooms[name] = r
	}
	r.users++
	h.mu.Unlock()
	if first {
		err := h.follow(ctx, r)
		h.mu.Lock()
		r.err = err
		h.mu.Unlock()
		close(r.ready)
	}
	select {
	case <-r.ready:
	case <-ctx.Done():
	}
	h.mu.Lock()
	err := r.err
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil {
		h.mu.Unlock()
		return r, nil
	}
	stops := h.exitLocked(r)
	h.mu.Unlock()
	runAll(stops)
	return nil, err
}

// follow has the bus report the room's presence and messages to the hub.
func (h *hub) follow(ctx context.Context, r *room) error {
	stopWatch, err := h.bus.Watch(ctx, r.name, func(key, name string, present bool) { h.presence(r, key, name, present) })
	if err != nil {
		return err
	}
	stopFollow, err := h.bus.Follow(ctx, r.name, func(msg []byte) { h.deliver(r, msg) })
	if err != nil {
		stopWatch()
		return err
	}
	h.mu.Lock()
	r.stops = []func(){stopFollow, stopWatch}
	h.mu.Unlock()
	return nil
}

// exitLocked counts a user of r out; the last one removes r, and must call
// the functions returned, without the lock, to stop following it.
func (h *hub) exitLocked(r *room) []func() {
	if r.users--; r.users > 0 || h.rooms[r.name] != r {
		return nil
	}
	delete(h.rooms, r.name)
	return r.stops
}

func runAll(fs []func()) {
	for _, f := range fs {
		f()
	}
}

// leave removes c from its room, if it was not dropped already, and
// releases its name; the bus then tells every server that it left.
func (h *hub) leave(c *client) {
	h.mu.Lock()
	if c.room.members[c.key] == c {
		delete(c.room.members, c.key)
		h.stopLocked(c)
	}
	stops := h.exitLocked(c.room)
	h.mu.Unlock()
	runAll(stops)

	h.releaseClaim(c)
}

// releaseClaim releases c's name, once.
func (h *hub) releaseClaim(c *client) {
	c.claimMu.Lock()
	defer c.claimMu.Unlock()
	if !c.released {
		c.released = true
		h.release(c.room.name, c.key, c.rev)
	}
}

func (h *hub) release(room, key string, rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	defer cancel()
	if err := h.bus.Release(ctx, room, key, rev); err != nil {
		h.log.Warn("releasing a name", "room", room, "err", err)
	}
}

// say posts text from member c into its room, through the bus, and tells c
// if the bus did not take it; it does nothing if c has been dropped
// meanwhile.
func (h *hub) say(c *client, text string) {
	raw := encode(newChatEvent(c.name, text))
	h.mu.Lock()
	ok := !h.closing && c.room.members[c.key] == c
	h.mu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, busTimeout)
	defer cancel()
	if err := h.bus.Publish(ctx, c.room.name, raw); err != nil {
		h.log.Warn("publish failed", "room", c.room.name, "name", c.name, "err", err)
		if errors.Is(err, context.DeadlineExceeded) {
			h.reply(c, errNotConfirmed)
		} else {
			h.reply(c, errNotSent)
		}
	}
}

// post posts text under name into a room, which need not have members:
// the message then waits in its history. It is marked as coming from the
// API, and refused with ErrNameTaken if a member has that name.
func (h *hub) post(ctx context.Context, roomName, name, text string) error {
	h.mu.Lock()
	closing := h.closing
	h.mu.Unlock()
	if closing {
		return errShuttingDown
	}
	switch taken, err := h.bus.Present(ctx, roomName, nameKey(name)); {
	case err != nil:
		return err
	case taken:
		return ErrNameTaken
	}
	ev := newChatEvent(name, text)
	ev.Via = "api"
	return h.bus.Publish(ctx, roomName, encode(ev))
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
		h.dropLocked(c.room, []*client{c}, closeTooSlow, reasonTooSlow)
	}
}

func newChatEvent(name, text string) chatEvent {
	return chatEvent{Type: "message", Name: name, Text: text, Time: time.Now().UTC().Format(time.RFC3339)}
}

// deliver is the bus's delivery of a chat message of r: it goes into r's
// history and to every member here. What the bus carries is checked as
// anything from the network is: a message that is not JSON text of ours
// is dropped, and what is sent on is our encoding of what was understood,
// never the bytes as they came.
func (h *hub) deliver(r *room, raw []byte) {
	msg, ok := parseMessageEvent(raw)
	if !ok {
		h.log.Warn("dropping a message from the bus that is not a chat message", "room", r.name, "len", len(raw))
		return
	}
	m := prepare(msg)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing || h.rooms[r.name] != r {
		return
	}
	if len(r.history) == historyLen {
		copy(r.history, r.history[1:])
		r.history = r.history[:historyLen-1]
	}
	r.history = append(r.history, msg)
	r.replay = nil
	h.broadcastLocked(r, m, nil)
}

// presence is the bus's report that a member of r, on any server, arrived
// or left: the members here are told, but for the one it is about.
func (h *hub) presence(r *room, key, name string, present bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing || h.rooms[r.name] != r {
		return
	}
	if present && (name == "" || checkName(name) != nil || nameKey(name) != key) {
		h.log.Warn("ignoring a member from the bus whose name is not valid", "room", r.name, "len", len(name))
		return
	}
	// The member it is about, if here, is not told: it knows.
	was, known := r.present[key]
	switch {
	case present && known:
		r.present[key] = name // a refresh
	case present:
		r.present[key] = name
		h.broadcastLocked(r, prepare(encode(noticeEvent{Type: "join", Name: name})), r.members[key])
	case known:
		delete(r.present, key)
		h.broadcastLocked(r, prepare(encode(noticeEvent{Type: "leave", Name: was})), r.members[key])
	}
}

// broadcastLocked queues m for every member of r but except, without
// waiting: a member whose queue is full is dropped.
func (h *hub) broadcastLocked(r *room, m *wsproto.PreparedMessage, except *client) {
	if slow := deliverLocked(r, m, except, nil); len(slow) > 0 {
		h.dropLocked(r, slow, closeTooSlow, reasonTooSlow)
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

// dropLocked removes the members of r in drop, closes them with code and
// reason and tells the others here at once that they left (the bus tells
// the other servers once their handlers release their names), which may
// find more members that cannot keep up.
func (h *hub) dropLocked(r *room, drop []*client, code wsproto.CloseCode, reason string) {
	h.expelLocked(r, drop, code, reason, true)
}

// expelLocked is dropLocked, telling the others only if announce: a
// member whose name is another's now is not announced as leaving, since
// the name is still present.
func (h *hub) expelLocked(r *room, drop []*client, code wsproto.CloseCode, reason string, announce bool) {
	for len(drop) > 0 {
		c := drop[len(drop)-1]
		drop = drop[:len(drop)-1]
		if r.members[c.key] != c {
			continue // listed twice, or gone
		}
		h.log.Info("dropping a client", "room", r.name, "name", c.name, "reason", reason)
		delete(r.members, c.key)
		h.stopLocked(c)
		h.closeLocked(c, code, reason)
		// Its name is released now, not once its handler has seen the
		// close through: the other servers see it leave with this one.
		c.bg.Go(func() { h.releaseClaim(c) })
		if _, ok := r.present[c.key]; ok && announce {
			delete(r.present, c.key)
			drop = deliverLocked(r, prepare(encode(noticeEvent{Type: "leave", Name: c.name})), nil, drop)
		}
		code, reason, announce = closeTooSlow, reasonTooSlow, true // those found now are slow
	}
}

// keepPresent refreshes the claims of every member here, every interval,
// until ctx ends, for a bus whose claims expire. A member whose claim
// expired meanwhile (this server was cut off from the bus) claims its name
// again, or is closed with 1013 if another took it.
func (h *hub) keepPresent(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		var clients []*client
		for _, r := range h.rooms {
			for _, c := range r.members {
				clients = append(clients, c)
			}
		}
		h.mu.Unlock()
		// Refreshes run refreshers at a time: a slow bus must not make a
		// round outlast the claims it keeps alive.
		sem := make(chan struct{}, refreshers)
		var wg sync.WaitGroup
		for _, c := range clients {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				h.refresh(ctx, c)
			})
		}
		wg.Wait()
	}
}

func (h *hub) refresh(ctx context.Context, c *client) {
	c.claimMu.Lock()
	defer c.claimMu.Unlock()
	if c.released {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, busTimeout)
	defer cancel()
	rev, err := h.bus.Refresh(ctx, c.room.name, c.key, c.name, c.rev)
	if errors.Is(err, ErrClaimLost) {
		h.log.Warn("a member's presence expired; claiming its name again", "room", c.room.name, "name", c.name)
		rev, err = h.bus.Claim(ctx, c.room.name, c.key, c.name)
		if errors.Is(err, ErrNameTaken) {
			c.released = true // it is another's now
			h.mu.Lock()
			h.expelLocked(c.room, []*client{c}, wsproto.CloseTryAgainLater, "name lost while the server was cut off; join again", false)
			h.mu.Unlock()
			return
		}
	}
	if err != nil {
		h.log.Warn("refreshing presence", "room", c.room.name, "name", c.name, "err", err)
		return
	}
	c.rev = rev
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

// memberNames returns the names present in r, with c's, sorted.
func (r *room) memberNames(c *client) []string {
	names := make([]string, 0, len(r.present)+1)
	for _, n := range r.present {
		names = append(names, n)
	}
	if _, ok := r.present[c.key]; !ok {
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

// variant returns the name a join tries at its i-th attempt for want: want
// itself, then want-2, want-3, ... kept within maxNameRunes; for an empty
// want, guest-NNNN.
func variant(want string, i int) string {
	if want == "" {
		return "guest-" + strconv.Itoa(1000+rand.IntN(9000))
	}
	if i == 0 {
		return want
	}
	suffix := "-" + strconv.Itoa(i+1)
	return strings.TrimRightFunc(truncate(want, maxNameRunes-len(suffix)), unicode.IsSpace) + suffix
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
