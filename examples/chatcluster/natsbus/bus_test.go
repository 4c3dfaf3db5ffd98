package natsbus

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/db7c6739/ws/examples/internal/chatroom"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startNATS runs a NATS server with JetStream in this process, on a
// loopback port, storing in a temporary directory; it ends with the test.
func startNATS(t *testing.T) *server.Server {
	t.Helper()
	return startNATSAt(t, -1, t.TempDir())
}

// startNATSAt is startNATS on a given port (-1: any) and store.
func startNATSAt(t *testing.T, port int, store string) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: store, NoSigs: true, NoLog: true,
	})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second))
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// node is one process's bus, on a connection of its own.
func node(t *testing.T, s *server.Server, opts Options) *Bus {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(-1))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := New(ctx, nc, opts)
	require.NoError(t, err)
	return b
}

// collector gathers what a Follow or a Watch delivers.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) add(p []byte) {
	c.mu.Lock()
	c.got = append(c.got, string(p))
	c.mu.Unlock()
}

func (c *collector) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

func (c *collector) waitFor(t *testing.T, n int) []string {
	t.Helper()
	require.Eventually(t, func() bool { return len(c.all()) >= n }, 10*time.Second, 5*time.Millisecond, "got %d of %d", len(c.all()), n)
	return c.all()
}

// watchLog records a Watch's changes as "+key" and "-key".
type watchLog struct{ collector }

func (w *watchLog) change(key, name string, present bool) {
	if present {
		w.add([]byte("+" + key))
	} else {
		w.add([]byte("-" + key))
	}
}

// members returns the names b's Watch reports present in room.
func members(t *testing.T, b *Bus, room string) []string {
	t.Helper()
	var names []string
	stop, err := b.Watch(context.Background(), room, func(_, name string, present bool) {
		if present {
			names = append(names, name)
		}
	})
	require.NoError(t, err)
	stop()
	return names
}

func messages(from, to int) []string {
	var m []string
	for i := from; i < to; i++ {
		m = append(m, fmt.Sprintf("message %d", i))
	}
	return m
}

// A follower on another process gets the room's last HistoryLen messages,
// oldest first, then the new ones in order; another room's stay apart.
func TestFollowHistoryThenLive(t *testing.T) {
	s := startNATS(t)
	a, b := node(t, s, Options{HistoryLen: 50}), node(t, s, Options{HistoryLen: 50})
	ctx := context.Background()
	for _, m := range messages(0, 60) {
		require.NoError(t, a.Publish(ctx, "lobby", []byte(m)))
	}
	require.NoError(t, a.Publish(ctx, "other", []byte("elsewhere")))

	var c collector
	stop, err := b.Follow(ctx, "lobby", c.add)
	require.NoError(t, err)
	defer stop()
	assert.Equal(t, messages(10, 60), c.all(), "the last 50, oldest first, delivered when Follow returns")
	for _, m := range messages(60, 63) {
		require.NoError(t, a.Publish(ctx, "lobby", []byte(m)))
	}
	assert.Equal(t, messages(10, 63), c.waitFor(t, 53), "then the new ones, in order")
}

// Names are unique in a room across processes; a released name is free
// again; other rooms are apart; a Watch, Present and Rooms see every
// process's.
func TestClaim(t *testing.T) {
	s := startNATS(t)
	a, b := node(t, s, Options{}), node(t, s, Options{})
	ctx := context.Background()
	alice, err := a.Claim(ctx, "lobby", "alice", "Alice")
	require.NoError(t, err)
	_, err = b.Claim(ctx, "lobby", "alice", "ALICE")
	assert.ErrorIs(t, err, ErrNameTaken)
	_, err = b.Claim(ctx, "kitchen", "alice", "alice")
	require.NoError(t, err, "another room")
	_, err = b.Claim(ctx, "lobby", "владимир", "Владимир")
	require.NoError(t, err, "any script")

	assert.ElementsMatch(t, []string{"Alice", "Владимир"}, members(t, a, "lobby"))
	present, err := b.Present(ctx, "lobby", "alice")
	require.NoError(t, err)
	assert.True(t, present)
	rooms, err := b.Rooms(ctx)
	require.NoError(t, err)
	assert.Equal(t, []chatroom.RoomInfo{{Room: "kitchen", Members: 1}, {Room: "lobby", Members: 2}}, rooms)

	alice, err = a.Refresh(ctx, "lobby", "alice", "Alice", alice)
	require.NoError(t, err)
	require.NoError(t, a.Release(ctx, "lobby", "alice", alice))
	assert.Equal(t, []string{"Владимир"}, members(t, b, "lobby"))
	present, err = b.Present(ctx, "lobby", "alice")
	require.NoError(t, err)
	assert.False(t, present)
	_, err = b.Claim(ctx, "lobby", "alice", "alice")
	require.NoError(t, err, "free again")
}

// Of many processes claiming one name at once, one wins.
func TestClaimRace(t *testing.T) {
	s := startNATS(t)
	ctx := context.Background()
	buses := make([]*Bus, 8)
	for i := range buses {
		buses[i] = node(t, s, Options{})
	}
	errs := make([]error, len(buses))
	var wg sync.WaitGroup
	for i, b := range buses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.Claim(ctx, "lobby", "alice", fmt.Sprint("alice of ", i))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			assert.ErrorIs(t, err, ErrNameTaken)
		}
	}
	assert.Equal(t, 1, won)
}

// A claim that its process stops refreshing expires: the members of a
// process that died disappear, and their names are free. The process,
// back, finds its claim lost and leaves the new holder's alone.
func TestClaimExpires(t *testing.T) {
	s := startNATS(t)
	a, b := node(t, s, Options{PresenceTTL: time.Second}), node(t, s, Options{PresenceTTL: time.Second})
	ctx := context.Background()
	old, err := a.Claim(ctx, "lobby", "alice", "alice")
	require.NoError(t, err)
	start := time.Now()
	var w watchLog
	stop, err := b.Watch(ctx, "lobby", w.change)
	require.NoError(t, err)
	defer stop()
	assert.Equal(t, []string{"+alice"}, w.waitFor(t, 1))
	assert.Equal(t, []string{"+alice", "-alice"}, w.waitFor(t, 2), "a watcher sees the expiry")
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "not before its TTL")
	_, err = b.Claim(ctx, "lobby", "alice", "the new alice")
	require.NoError(t, err)

	_, err = a.Refresh(ctx, "lobby", "alice", "alice", old)
	assert.ErrorIs(t, err, ErrClaimLost)
	assert.ErrorIs(t, a.Release(ctx, "lobby", "alice", old), ErrClaimLost)
	assert.Equal(t, []string{"the new alice"}, members(t, b, "lobby"), "the new holder's claim stands")
}

// Room names that are not subject tokens are refused by every method.
func TestBadRoom(t *testing.T) {
	s := startNATS(t)
	a := node(t, s, Options{})
	ctx := context.Background()
	for _, room := range []string{"", "*", ">", "a.b", "a b", "café"} {
		assert.ErrorIs(t, a.Publish(ctx, room, nil), ErrBadRoom, room)
		_, err := a.Follow(ctx, room, func([]byte) {})
		assert.ErrorIs(t, err, ErrBadRoom, room)
		_, err = a.Watch(ctx, room, func(string, string, bool) {})
		assert.ErrorIs(t, err, ErrBadRoom, room)
		_, err = a.Present(ctx, room, "k")
		assert.ErrorIs(t, err, ErrBadRoom, room)
		_, err = a.Claim(ctx, room, "k", "n")
		assert.ErrorIs(t, err, ErrBadRoom, room)
	}
}

// A watch of a room reports the members present, then arrivals and
// departures on every process, and nothing of other rooms.
func TestWatch(t *testing.T) {
	s := startNATS(t)
	a, b := node(t, s, Options{}), node(t, s, Options{})
	ctx := context.Background()
	_, err := b.Claim(ctx, "lobby", "bob", "Bob")
	require.NoError(t, err)
	var w watchLog
	stop, err := a.Watch(ctx, "lobby", w.change)
	require.NoError(t, err)
	assert.Equal(t, []string{"+bob"}, w.all(), "the members present, reported when Watch returns")

	carol, err := b.Claim(ctx, "lobby", "carol", "Carol")
	require.NoError(t, err)
	_, err = b.Claim(ctx, "kitchen", "dave", "dave")
	require.NoError(t, err)
	carol, err = b.Refresh(ctx, "lobby", "carol", "Carol", carol)
	require.NoError(t, err)
	require.NoError(t, b.Release(ctx, "lobby", "carol", carol))
	assert.Equal(t, []string{"+bob", "+carol", "+carol", "-carol"}, w.waitFor(t, 4), "a refresh is reported as present again")
	stop()
	_, err = b.Claim(ctx, "lobby", "erin", "erin")
	require.NoError(t, err)
	require.NoError(t, b.nc.Flush())
	assert.Len(t, w.all(), 4, "nothing after stop")
}

// Following a room without history returns at once.
func TestFollowEmptyRoom(t *testing.T) {
	s := startNATS(t)
	a := node(t, s, Options{})
	ctx := context.Background()
	var c collector
	stop, err := a.Follow(ctx, "empty", c.add)
	require.NoError(t, err)
	defer stop()
	assert.Empty(t, c.all())
	require.NoError(t, a.Publish(ctx, "empty", []byte("first")))
	assert.Equal(t, []string{"first"}, c.waitFor(t, 1))
}

// When NATS restarts (same store, same port), a Follow goes on from where
// it was: nothing lost, nothing twice.
func TestFollowAcrossRestart(t *testing.T) {
	store := t.TempDir()
	s := startNATSAt(t, -1, store)
	port := s.Addr().(*net.TCPAddr).Port
	a, b := node(t, s, Options{}), node(t, s, Options{})
	ctx := context.Background()
	var c collector
	stop, err := b.Follow(ctx, "lobby", c.add)
	require.NoError(t, err)
	defer stop()
	require.NoError(t, a.Publish(ctx, "lobby", []byte("before")))
	c.waitFor(t, 1)

	s.Shutdown()
	s.WaitForShutdown()
	startNATSAt(t, port, store)
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		return a.Publish(ctx, "lobby", []byte("after")) == nil
	}, 20*time.Second, 100*time.Millisecond, "publishing works again")
	got := c.waitFor(t, 2)
	assert.Equal(t, "before", got[0])
	assert.Equal(t, "after", got[len(got)-1])
	assert.NotContains(t, got[1:len(got)-1], "before", "nothing twice")
}

// With NATS gone, Publish fails within its context: a sender learns that
// its message was not sent.
func TestPublishWithoutNATS(t *testing.T) {
	s := startNATS(t)
	a := node(t, s, Options{})
	s.Shutdown()
	s.WaitForShutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	assert.Error(t, a.Publish(ctx, "lobby", []byte("into the void")))
}
