// Package natsbus carries the rooms of a chat between server processes over
// NATS, so that members connected to different processes share a room:
//
//   - a room's chat messages go to the subject chat.msg.<room>, kept in the
//     JetStream stream CHAT, the last HistoryLen of each room, so that a
//     newcomer on any process sees them and a restart loses nothing;
//   - its events (joins, leaves) go to chat.event.<room>, not kept;
//   - who is in which room is in the key-value bucket chat-presence, one
//     key per room and member name, created only if absent (names are
//     unique in a room across processes) and expiring PresenceTTL after
//     its process last refreshed it (the members of a process that died
//     disappear).
//
// Room names are ASCII letters, digits, '-' and '_' (they are NATS subject
// tokens and key-value keys); any other is refused with ErrBadRoom.
//
// Each Follow is a JetStream consumer of its own, with its heartbeats: a
// process with many rooms would rather follow them all with one. The
// stream and the bucket take the Options of the process that started
// last.
package natsbus

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults for Options left at zero.
const (
	DefaultHistoryLen  = 50
	DefaultPresenceTTL = 30 * time.Second
)

const (
	streamName  = "CHAT"
	msgPrefix   = "chat.msg."
	eventPrefix = "chat.event."
	bucketName  = "chat-presence"
)

var (
	// ErrNameTaken is returned by Claim for a name a member of the room
	// holds, on any process.
	ErrNameTaken = errors.New("natsbus: a member of the room has this name")
	// ErrClaimLost is returned by Refresh and Release for a claim that is
	// no longer this process's: it expired (the process was cut off from
	// NATS for longer than PresenceTTL), and maybe another took the name.
	ErrClaimLost = errors.New("natsbus: the claim expired")
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
}

// Bus is one process's connection to the chat's rooms. Its methods may be
// called from any goroutine.
type Bus struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	kv     jetstream.KeyValue
}

// New returns a Bus on nc, creating the stream and the bucket if they do
// not exist yet (or updating them to opts).
func New(ctx context.Context, nc *nats.Conn, opts Options) (*Bus, error) {
	if opts.HistoryLen <= 0 {
		opts.HistoryLen = DefaultHistoryLen
	}
	if opts.PresenceTTL <= 0 {
		opts.PresenceTTL = DefaultPresenceTTL
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsbus: %w", err)
	}
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              streamName,
		Subjects:          []string{msgPrefix + "*"},
		MaxMsgsPerSubject: int64(opts.HistoryLen),
		Storage:           jetstream.FileStorage,
		Discard:           jetstream.DiscardOld,
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: stream %s: %w", streamName, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:  bucketName,
		TTL:     opts.PresenceTTL,
		Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: bucket %s: %w", bucketName, err)
	}
	return &Bus{nc: nc, js: js, stream: stream, kv: kv}, nil
}

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
		if md, err := m.Metadata(); err == nil && md.Sequence.Stream >= last {
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

// Notify sends an event of room (a join, a leave) to its listeners on
// every process, now; it is not kept.
func (b *Bus) Notify(room string, event []byte) error {
	if err := checkRoom(room); err != nil {
		return err
	}
	if err := b.nc.Publish(eventPrefix+room, event); err != nil {
		return fmt.Errorf("natsbus: notify %s: %w", room, err)
	}
	return nil
}

// Listen calls deliver with each event of room notified from now on, until
// stop is called.
func (b *Bus) Listen(room string, deliver func(event []byte)) (stop func(), err error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	sub, err := b.nc.Subscribe(eventPrefix+room, func(m *nats.Msg) { deliver(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("natsbus: listen %s: %w", room, err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
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

// Members returns the names present in room, on every process, in no
// particular order.
func (b *Bus) Members(ctx context.Context, room string) ([]string, error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	w, err := b.kv.WatchFiltered(ctx, []string{room + ".*"}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("natsbus: members: %w", err)
	}
	defer w.Stop()
	byKey := map[string]string{}
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("natsbus: members: the watch ended (connection closed)")
			}
			if e == nil { // the present values are all in
				names := make([]string, 0, len(byKey))
				for _, n := range byKey {
					names = append(names, n)
				}
				return names, nil
			}
			byKey[e.Key()] = string(e.Value())
		case <-ctx.Done():
			return nil, fmt.Errorf("natsbus: members: %w", ctx.Err())
		}
	}
}
