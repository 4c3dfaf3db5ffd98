//go:build !js

package chatroom

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// Bus carries a chat's rooms between the servers that hold their members:
// the chat messages of each room, kept for newcomers, and who is present in
// each room under which name. A Server publishes to its Bus and follows
// the rooms that have members on it; LocalBus serves a single process, and
// a bus over a message backbone (examples/chatcluster's natsbus) serves
// many.
//
// Room names are those validRoom accepts; member keys are names as
// compared (case-folded), any string.
type Bus interface {
	// Publish stores msg, a chat message of room as JSON, for the room's
	// history and every Follow of the room. It returns nil once msg is
	// stored: an error means the message may not have gone out.
	Publish(ctx context.Context, room string, msg []byte) error
	// Follow calls deliver with each chat message of room: those kept,
	// oldest first, then each new one in the order stored, one at a time.
	// It returns once the kept ones have been delivered. stop returns once
	// no deliver call is running or to come; it is never called from
	// deliver.
	Follow(ctx context.Context, room string, deliver func(msg []byte)) (stop func(), err error)
	// Watch calls change for each member present in room, then for each
	// arrival (present) and departure (!present) until stop, one at a
	// time. It returns once the members present have been reported. A
	// departure may carry no name. The same rules for stop as Follow's.
	Watch(ctx context.Context, room string, change func(key, name string, present bool)) (stop func(), err error)

	// Claim makes name present in room under key, unless a member of the
	// room holds key: ErrNameTaken. rev identifies the claim to Refresh
	// and Release.
	Claim(ctx context.Context, room, key, name string) (rev uint64, err error)
	// Refresh keeps the claim rev alive, on buses where claims expire, and
	// returns its new revision; a claim that expired gives ErrClaimLost.
	Refresh(ctx context.Context, room, key, name string, rev uint64) (uint64, error)
	// Release ends the claim rev: the member left. A claim that expired
	// gives ErrClaimLost.
	Release(ctx context.Context, room, key string, rev uint64) error
	// Present reports whether a member of room holds key.
	Present(ctx context.Context, room, key string) (bool, error)
	// Rooms returns the rooms that have members, with how many.
	Rooms(ctx context.Context) ([]RoomInfo, error)
}

var (
	// ErrNameTaken is returned by Bus.Claim for a name a member of the room
	// holds.
	ErrNameTaken = errors.New("name: a member of the room has this name")
	// ErrClaimLost is returned by Bus.Refresh and Bus.Release for a claim
	// that expired (its server was cut off for too long), and may now be
	// another's.
	ErrClaimLost = errors.New("chat: the claim on the name expired")
)

// RoomInfo is an entry of GET /api/rooms.
type RoomInfo struct {
	Room    string `json:"room"`
	Members int    `json:"members"`
}

// sortRooms sorts rooms by name, as GET /api/rooms lists them.
func sortRooms(rooms []RoomInfo) {
	slices.SortFunc(rooms, func(a, b RoomInfo) int { return strings.Compare(a.Room, b.Room) })
}

// defaultMaxIdleRooms is how many rooms without members a LocalBus keeps
// for their history; beyond it the one idle longest is forgotten.
const defaultMaxIdleRooms = 100

// LocalBus is the Bus of a chat in one process. Claims never expire.
// Every call back (deliver, change) runs under its lock, so a room's
// messages and presence reach each follower in one order; they must not
// call the bus.
type LocalBus struct {
	maxIdle    int // rooms without members kept for their history
	historyLen int

	mu      sync.Mutex
	rooms   map[string]*localRoom
	nextRev uint64
}

type localRoom struct {
	history   [][]byte // the last historyLen messages, oldest first
	followers map[*func([]byte)]struct{}
	watchers  map[*func(key, name string, present bool)]struct{}
	claims    map[string]localClaim // by key
	lastUsed  time.Time
}

type localClaim struct {
	name string
	rev  uint64
}

// NewLocalBus returns a LocalBus that keeps the last 50 messages of each
// room, for at most 100 rooms without members beside those with some.
func NewLocalBus() *LocalBus {
	return &LocalBus{maxIdle: defaultMaxIdleRooms, historyLen: historyLen, rooms: map[string]*localRoom{}}
}

// roomLocked returns room, creating it.
func (b *LocalBus) roomLocked(name string) *localRoom {
	r := b.rooms[name]
	if r == nil {
		r = &localRoom{
			followers: map[*func([]byte)]struct{}{},
			watchers:  map[*func(string, string, bool)]struct{}{},
			claims:    map[string]localClaim{},
		}
		b.rooms[name] = r
	}
	return r
}

func (r *localRoom) idle() bool {
	return len(r.followers) == 0 && len(r.watchers) == 0 && len(r.claims) == 0
}

// tidyLocked forgets room if nothing holds it, and the rooms idle longest
// beyond maxIdle.
func (b *LocalBus) tidyLocked(name string) {
	r := b.rooms[name]
	if r == nil || !r.idle() {
		return
	}
	if len(r.history) == 0 {
		delete(b.rooms, name)
		return
	}
	r.lastUsed = time.Now()
	idle := 0
	for _, r := range b.rooms {
		if r.idle() {
			idle++
		}
	}
	for ; idle > b.maxIdle; idle-- {
		var oldest string
		for n, r := range b.rooms {
			if r.idle() && (oldest == "" || r.lastUsed.Before(b.rooms[oldest].lastUsed)) {
				oldest = n
			}
		}
		delete(b.rooms, oldest)
	}
}

func (b *LocalBus) Publish(ctx context.Context, room string, msg []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.roomLocked(room)
	if len(r.history) == b.historyLen {
		copy(r.history, r.history[1:])
		r.history = r.history[:b.historyLen-1]
	}
	r.history = append(r.history, msg)
	for f := range r.followers {
		(*f)(msg)
	}
	b.tidyLocked(room)
	return nil
}

func (b *LocalBus) Follow(ctx context.Context, room string, deliver func([]byte)) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.roomLocked(room)
	for _, m := range r.history {
		deliver(m)
	}
	f := &deliver
	r.followers[f] = struct{}{}
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(r.followers, f)
		b.tidyLocked(room)
	}, nil
}

func (b *LocalBus) Watch(ctx context.Context, room string, change func(key, name string, present bool)) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.roomLocked(room)
	for key, c := range r.claims {
		change(key, c.name, true)
	}
	w := &change
	r.watchers[w] = struct{}{}
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(r.watchers, w)
		b.tidyLocked(room)
	}, nil
}

func (b *LocalBus) Claim(ctx context.Context, room, key, name string) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.roomLocked(room)
	if _, ok := r.claims[key]; ok {
		return 0, ErrNameTaken
	}
	b.nextRev++
	r.claims[key] = localClaim{name: name, rev: b.nextRev}
	for w := range r.watchers {
		(*w)(key, name, true)
	}
	return b.nextRev, nil
}

func (b *LocalBus) Refresh(ctx context.Context, room, key, name string, rev uint64) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.rooms[room]; r != nil && r.claims[key].rev == rev && rev != 0 {
		return rev, nil
	}
	return 0, ErrClaimLost
}

func (b *LocalBus) Release(ctx context.Context, room, key string, rev uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.rooms[room]
	if r == nil || r.claims[key].rev != rev || rev == 0 {
		return ErrClaimLost
	}
	delete(r.claims, key)
	for w := range r.watchers {
		(*w)(key, "", false)
	}
	b.tidyLocked(room)
	return nil
}

func (b *LocalBus) Present(ctx context.Context, room, key string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.rooms[room]
	if r == nil {
		return false, nil
	}
	_, ok := r.claims[key]
	return ok, nil
}

func (b *LocalBus) Rooms(ctx context.Context) ([]RoomInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []RoomInfo{}
	for name, r := range b.rooms {
		if len(r.claims) > 0 {
			out = append(out, RoomInfo{name, len(r.claims)})
		}
	}
	sortRooms(out)
	return out, nil
}
