// Package natsbus carries the rooms of a chat between server processes over
// NATS, so that members connected to different processes share a room:
//
//   - a room's chat messages go to the subject chat.msg.<room>, kept in the
//     JetStream stream CHAT, the last HistoryLen of each room, so that a
//     newcomer on any process sees them and a restart loses nothing;
//   - its events (joins, leaves) go to chat.event.<room>, not kept;
//   - who is in which room is in the key-value bucket chat-presence, one
//     key per member name, created only if absent (names are unique
//     across processes) and expiring PresenceTTL after its process last
//     refreshed it (the members of a process that died disappear).
//
// Room names are NATS subject tokens: letters, digits, '-' and '_'.
package natsbus

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
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

// ErrNameTaken is returned by Claim for a name a member of the room holds,
// on any process.
var ErrNameTaken = errors.New("natsbus: a member of the room has this name")

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
// Follow of the room on any process. It returns once the stream holds it,
// or the reason it does not: the sender is to be told, never left to
// believe it was sent.
func (b *Bus) Publish(ctx context.Context, room string, msg []byte) error {
	if _, err := b.js.Publish(ctx, msgPrefix+room, msg); err != nil {
		return fmt.Errorf("natsbus: publish to %s: %w", room, err)
	}
	return nil
}

// Follow calls deliver with each chat message of room: those kept, oldest
// first, then each new one as it is stored, in the stream's order, one at
// a time, on a goroutine of the NATS client. It returns once the messages
// kept when it was called have been delivered, so that a caller holds the
// room's history when it returns, and then goes on, across reconnections
// to NATS, from where it left off, until stop is called. ctx bounds the
// wait for the history.
func (b *Bus) Follow(ctx context.Context, room string, deliver func(msg []byte)) (stop func(), err error) {
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
	caughtUp := make(chan struct{})
	if last == 0 {
		close(caughtUp)
	}
	var waiting = last != 0 // touched by the consumer's goroutine only
	cc, err := cons.Consume(func(m jetstream.Msg) {
		deliver(m.Data())
		if waiting {
			if md, err := m.Metadata(); err == nil && md.Sequence.Stream >= last {
				waiting = false
				close(caughtUp)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: follow %s: %w", room, err)
	}
	select {
	case <-caughtUp:
		return cc.Stop, nil
	case <-ctx.Done():
		cc.Stop()
		return nil, fmt.Errorf("natsbus: follow %s: history: %w", room, ctx.Err())
	}
}

// Notify sends an event of room (a join, a leave) to its listeners on
// every process, now; it is not kept.
func (b *Bus) Notify(room string, event []byte) error {
	if err := b.nc.Publish(eventPrefix+room, event); err != nil {
		return fmt.Errorf("natsbus: notify %s: %w", room, err)
	}
	return nil
}

// Listen calls deliver with each event of room notified from now on, until
// stop is called.
func (b *Bus) Listen(room string, deliver func(event []byte)) (stop func(), err error) {
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
// ErrNameTaken. The claim lasts PresenceTTL unless refreshed.
func (b *Bus) Claim(ctx context.Context, room, key, name string) error {
	_, err := b.kv.Create(ctx, presenceKey(room, key), []byte(name))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return ErrNameTaken
	}
	if err != nil {
		return fmt.Errorf("natsbus: claim: %w", err)
	}
	return nil
}

// Refresh renews a claim for another PresenceTTL.
func (b *Bus) Refresh(ctx context.Context, room, key, name string) error {
	if _, err := b.kv.Put(ctx, presenceKey(room, key), []byte(name)); err != nil {
		return fmt.Errorf("natsbus: refresh: %w", err)
	}
	return nil
}

// Release ends a claim: the member left.
func (b *Bus) Release(ctx context.Context, room, key string) error {
	if err := b.kv.Purge(ctx, presenceKey(room, key)); err != nil {
		return fmt.Errorf("natsbus: release: %w", err)
	}
	return nil
}

// Members returns the names present in room, on every process, in no
// particular order.
func (b *Bus) Members(ctx context.Context, room string) ([]string, error) {
	w, err := b.kv.WatchFiltered(ctx, []string{room + ".*"}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("natsbus: members: %w", err)
	}
	defer w.Stop()
	byKey := map[string]string{}
	for {
		select {
		case e := <-w.Updates():
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
