// Package natsbus carries the rooms of a chat between server processes over
// NATS, so that members connected to different processes share a room:
//
//   - a room's chat messages go to the subject chat.msg.<room>, kept in the
//     JetStream stream CHAT, the last HistoryLen of each room, so that a
//     newcomer on any process sees them and a restart loses nothing;
//   - who is in which room is in the key-value bucket chat-presence, one
//     key per room and member name, created only if absent (names are
//     unique in a room across processes) and expiring PresenceTTL after
//     its process last refreshed it (the members of a process that died
//     disappear); watchers of a room see arrivals and departures,
//     expiries included.
//
// Room names are ASCII letters, digits, '-' and '_' (they are NATS subject
// tokens and key-value keys); any other is refused with ErrBadRoom.
//
// Bus is a chatroom.Bus. Each Follow and each Watch is a JetStream
// ordered consumer of its own: a process follows only the rooms that have
// members on it. The stream takes the Options of the process that started
// last; the bucket keeps those of the process that created it.
package natsbus

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/db7c6739/ws/examples/internal/chatroom"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults for Options left at zero.
const (
	DefaultHistoryLen  = 50
	DefaultPresenceTTL = 30 * time.Second
	DefaultMaxBytes    = 256 << 20
)

// maxMsgSize bounds a message in the stream: more than a chat message can
// take. maxNameBytes bounds a presence value, a name: 24 runes take at
// most 96 bytes.
const (
	maxMsgSize   = 128 << 10
	maxNameBytes = 256
)

const (
	streamName = "CHAT"
	msgPrefix  = "chat.msg."
	bucketName = "chat-presence"
)

var (
	// ErrNameTaken is returned by Claim for a name a member of the room
	// holds, on any process.
	ErrNameTaken = chatroom.ErrNameTaken
	// ErrClaimLost is returned by Refresh and Release for a claim that is
	// no longer this process's: it expired (the process was cut off from
	// NATS for longer than PresenceTTL), and maybe another took the name.
	ErrClaimLost = chatroom.ErrClaimLost
	// ErrBadRoom is returned for a room name that is not ASCII letters,
	// digits, '-' and '_'.
	ErrBadRoom = errors.New("natsbus: room names are ASCII letters, digits, '-' and '_'")
)

// checkRoom returns ErrBadRoom unless room is a valid room name.
func checkRoom(room string) error {
	if room == "" {
		return ErrBadRoom
	}
	for _, c := range []byte(room) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return ErrBadRoom
		}
	}
	return nil
}

// Options configures a Bus; the zero value has useful defaults.
type Options struct {
	// HistoryLen is how many chat messages each room keeps.
	HistoryLen int
	// PresenceTTL is how long a member's presence lasts without a
	// Refresh: a process refreshes its members more often than that.
	PresenceTTL time.Duration
	// MaxBytes bounds the stream of every room's messages.
	MaxBytes int64
}

// Bus is one process's connection to the chat's rooms. Its methods may be
// called from any goroutine.
type Bus struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	kv     jetstream.KeyValue
	ttl    time.Duration // the bucket's

	// Rooms reads every key of the bucket: its answer serves every caller
	// for roomsFresh, so that callers cannot make NATS do that at will.
	roomsMu   sync.Mutex
	rooms     []chatroom.RoomInfo
	roomsRead time.Time
}

// roomsFresh is how long an answer of Rooms serves.
const roomsFresh = time.Second

// New returns a Bus on nc, creating the stream and the bucket if they do
// not exist yet (or updating them to opts).
func New(ctx context.Context, nc *nats.Conn, opts Options) (*Bus, error) {
	if opts.HistoryLen <= 0 {
		opts.HistoryLen = DefaultHistoryLen
	}
	if opts.PresenceTTL <= 0 {
		opts.PresenceTTL = DefaultPresenceTTL
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsbus: %w", err)
	}
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              streamName,
		Subjects:          []string{msgPrefix + "*"},
		MaxMsgsPerSubject: int64(opts.HistoryLen),
		// Rooms are as many as callers make up: the stream's size is
		// bounded too, dropping the oldest messages of any room.
		MaxBytes:   opts.MaxBytes,
		MaxMsgSize: maxMsgSize,
		Storage:    jetstream.FileStorage,
		Discard:    jetstream.DiscardOld,
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: stream %s: %w", streamName, err)
	}
	// The bucket is created by the first process; the others take it as
	// it is, so that every process refreshes at the pace of the TTL that
	// holds (PresenceTTL says which).
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       bucketName,
		TTL:          opts.PresenceTTL,
		Storage:      jetstream.FileStorage,
		MaxValueSize: maxNameBytes,
		MaxBytes:     opts.MaxBytes / 4,
		// A key that expires leaves a marker, so that watchers see the
		// member leave; the marker itself goes after a while.
		LimitMarkerTTL: opts.PresenceTTL,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, bucketName)
	}
	if err != nil {
		return nil, fmt.Errorf("natsbus: bucket %s: %w", bucketName, err)
	}
	status, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("natsbus: bucket %s: %w", bucketName, err)
	}
	return &Bus{nc: nc, js: js, stream: stream, kv: kv, ttl: status.TTL()}, nil
}

// PresenceTTL returns how long a claim lasts without a Refresh: the TTL of
// the bucket, set by the process that created it, which may not be
// Options.PresenceTTL.
func (b *Bus) PresenceTTL() time.Duration { return b.ttl }

// Publish stores a chat message of room, for its history and for every
// Follow of the room on any process. It returns nil once the stream holds
// it, and an error otherwise, so that the sender is told, never left to
// believe it was sent; after a timeout the message may be stored all the
// same, and retrying may store it twice.
func (b *Bus) Publish(ctx context.Context, room string, msg []byte) error {
	if err := checkRoom(room); err != nil {
		return err
	}
	if _, err := b.js.Publish(ctx, msgPrefix+room, msg); err != nil {
		return fmt.Errorf("natsbus: publish to %s: %w", room, err)
	}
	return nil
}

// Follow calls deliver with each chat message of room: those kept, oldest
// first, then each new one as it is stored, in the stream's order, one at
// a time, on a goroutine of the NATS client. It returns once the messages
// kept when it was called have been delivered, so that a caller holds the
// room's history when it returns; ctx bounds that wait. It then goes on,
// across reconnections to NATS, from where it left off, until stop is
// called or the NATS connection is closed for good. stop returns once no
// deliver call is running or to come; it must not be called from deliver.
func (b *Bus) Follow(ctx context.Context, room string, deliver func(msg []byte)) (stop func(), err error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	subject := msgPrefix + room
	var last uint64 // the room's last message now: history ends there
	switch m, err := b.stream.GetLastMsgForSubject(ctx, subject); {
	case errors.Is(err, jetstream.ErrMsgNotFound):
	case err != nil:
		return nil, fmt.Errorf("natsbus: follow %s: %w", room, err)
	default:
		last = m.Sequence
	}
	cons, err := b.js.OrderedConsumer(ctx, streamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: follow %s: %w", room, err)
	}
	// The client may run the handler on two goroutines at once around a
	// reconnection: mu keeps deliver one at a time, and the history's end
	// is signalled once.
	var (
		mu       sync.Mutex
		caughtUp = make(chan struct{})
		signal   sync.Once
	)
	if last == 0 {
		signal.Do(func() { close(caughtUp) })
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		mu.Lock()
		defer mu.Unlock()
		deliver(m.Data())
		// Caught up at the last message seen before, or at the last one
		// there is, should that one have been discarded meanwhile.
		if md, err := m.Metadata(); err == nil && (md.Sequence.Stream >= last || md.NumPending == 0) {
			signal.Do(func() { close(caughtUp) })
		}
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: follow %s: %w", room, err)
	}
	stop = func() {
		cc.Stop()
		<-cc.Closed()
		mu.Lock() // a deliver under way ends first
		mu.Unlock()
	}
	select {
	case <-caughtUp:
		return stop, nil
	case <-ctx.Done():
		stop()
		return nil, fmt.Errorf("natsbus: follow %s: history: %w", room, ctx.Err())
	}
}

// presenceKey is the bucket's key for a member of room whose name has the
// given key (its case-folded form, say): the room, a dot, and the key in
// hexadecimal, which keys of any script allow.
func presenceKey(room, key string) string {
	return room + "." + hex.EncodeToString([]byte(key))
}

// Claim records name as present in room under key, for this process, if
// no member of the room holds key on any process; else it returns
// ErrNameTaken. The claim lasts PresenceTTL unless refreshed; rev
// identifies it to Refresh and Release.
func (b *Bus) Claim(ctx context.Context, room, key, name string) (rev uint64, err error) {
	if err := checkRoom(room); err != nil {
		return 0, err
	}
	rev, err = b.kv.Create(ctx, presenceKey(room, key), []byte(name))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, ErrNameTaken
	}
	if err != nil {
		return 0, fmt.Errorf("natsbus: claim: %w", err)
	}
	return rev, nil
}

// Refresh renews the claim rev for another PresenceTTL and returns its new
// revision; a claim that expired meanwhile is not renewed: ErrClaimLost.
func (b *Bus) Refresh(ctx context.Context, room, key, name string, rev uint64) (uint64, error) {
	if err := checkRoom(room); err != nil {
		return 0, err
	}
	next, err := b.kv.Update(ctx, presenceKey(room, key), []byte(name), rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, ErrClaimLost
	}
	if err != nil {
		return 0, fmt.Errorf("natsbus: refresh: %w", err)
	}
	return next, nil
}

// Release ends the claim rev: the member left. A claim that expired, and
// maybe went to another, is left alone: ErrClaimLost.
func (b *Bus) Release(ctx context.Context, room, key string, rev uint64) error {
	if err := checkRoom(room); err != nil {
		return err
	}
	err := b.kv.Purge(ctx, presenceKey(room, key), jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyNotFound) {
		return ErrClaimLost
	}
	if err != nil {
		return fmt.Errorf("natsbus: release: %w", err)
	}
	return nil
}

// Present reports whether a member of room holds key, on any process.
func (b *Bus) Present(ctx context.Context, room, key string) (bool, error) {
	if err := checkRoom(room); err != nil {
		return false, err
	}
	switch _, err := b.kv.Get(ctx, presenceKey(room, key)); {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("natsbus: present: %w", err)
	}
	return true, nil
}

// Watch calls change for each member present in room, on every process,
// then for each arrival and departure (a release, or an expiry: the
// bucket marks those) until stop is called, one at a time, on a goroutine
// of its own. A departure carries no name. It returns once the members
// present have been reported; ctx bounds that wait. Across reconnections
// to NATS it goes on from where it left off. stop returns once no change
// call is running or to come; it must not be called from change.
func (b *Bus) Watch(ctx context.Context, room string, change func(key, name string, present bool)) (stop func(), err error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	// The watch outlives ctx, which bounds only the wait for the members
	// present: the client's ordered consumer recreates itself after a
	// reconnection with the context it was given.
	w, err := b.kv.WatchFiltered(context.Background(), []string{room + ".*"})
	if err != nil {
		return nil, fmt.Errorf("natsbus: watch %s: %w", room, err)
	}
	var (
		caughtUp = make(chan struct{})
		done     = make(chan struct{})
		stopping atomic.Bool
	)
	// The client closes Updates once the watch's subscription ends, by
	// stop or on its own (an ordered consumer it could not recreate): the
	// loop drains it until then, so that the client's handler is never
	// left blocked on it.
	go func() {
		defer close(done)
		for e := range w.Updates() {
			if stopping.Load() {
				continue
			}
			if e == nil {
				select {
				case <-caughtUp:
				default:
					close(caughtUp)
				}
				continue
			}
			key, err := memberKey(room, e.Key())
			if err != nil {
				continue // not one of ours
			}
			if e.Operation() == jetstream.KeyValuePut {
				change(key, string(e.Value()), true)
			} else {
				change(key, "", false)
			}
		}
	}()
	stop = func() {
		stopping.Store(true)
		_ = w.Stop()
		<-done
	}
	select {
	case <-caughtUp:
		return stop, nil
	case <-done:
		return nil, fmt.Errorf("natsbus: watch %s: ended before the members present were reported", room)
	case <-ctx.Done():
		stop()
		return nil, fmt.Errorf("natsbus: watch %s: %w", room, ctx.Err())
	}
}

// memberKey returns the member's key in a bucket key of room.
func memberKey(room, bucketKey string) (string, error) {
	k, err := hex.DecodeString(strings.TrimPrefix(bucketKey, room+"."))
	return string(k), err
}

// Rooms returns the rooms that have members, on every process, with how
// many, by name, as they were at most a second ago. The caller must not
// modify the slice.
func (b *Bus) Rooms(ctx context.Context) ([]chatroom.RoomInfo, error) {
	b.roomsMu.Lock()
	defer b.roomsMu.Unlock()
	if b.rooms != nil && time.Since(b.roomsRead) < roomsFresh {
		return b.rooms, nil
	}
	rooms, err := b.readRooms(ctx)
	if err != nil {
		return nil, err
	}
	b.rooms, b.roomsRead = rooms, time.Now()
	return rooms, nil
}

// readRooms counts the keys of the bucket by room.
func (b *Bus) readRooms(ctx context.Context) ([]chatroom.RoomInfo, error) {
	keys, err := b.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("natsbus: rooms: %w", err)
	}
	counts := map[string]int{}
	for k := range keys.Keys() {
		if room, _, ok := strings.Cut(k, "."); ok {
			counts[room]++
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("natsbus: rooms: %w", err)
	}
	out := make([]chatroom.RoomInfo, 0, len(counts))
	for room, n := range counts {
		out = append(out, chatroom.RoomInfo{Room: room, Members: n})
	}
	slices.SortFunc(out, func(a, b chatroom.RoomInfo) int { return strings.Compare(a.Room, b.Room) })
	return out, nil
}

var _ chatroom.Bus = (*Bus)(nil)
