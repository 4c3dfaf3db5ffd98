package natsbus

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startNATS runs a NATS server with JetStream in this process, on a
// loopback port, storing in a temporary directory; it ends with the test.
func startNATS(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
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
	nc, err := nats.Connect(s.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := New(ctx, nc, opts)
	require.NoError(t, err)
	return b
}

// collector gathers what a Follow or Listen delivers.
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
// again; other rooms are apart; Members sees every process's.
func TestClaim(t *testing.T) {
	s := startNATS(t)
	a, b := node(t, s, Options{}), node(t, s, Options{})
	ctx := context.Background()
	require.NoError(t, a.Claim(ctx, "lobby", "alice", "Alice"))
	assert.ErrorIs(t, b.Claim(ctx, "lobby", "alice", "ALICE"), ErrNameTaken)
	require.NoError(t, b.Claim(ctx, "kitchen", "alice", "alice"), "another room")
	require.NoError(t, b.Claim(ctx, "lobby", "владимир", "Владимир"), "any script")

	members, err := a.Members(ctx, "lobby")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"Alice", "Владимир"}, members)

	require.NoError(t, a.Release(ctx, "lobby", "alice"))
	members, err = b.Members(ctx, "lobby")
	require.NoError(t, err)
	assert.Equal(t, []string{"Владимир"}, members)
	require.NoError(t, b.Claim(ctx, "lobby", "alice", "alice"), "free again")
}

// A claim that its process stops refreshing expires: the members of a
// process that died disappear, and their names are free.
func TestClaimExpires(t *testing.T) {
	s := startNATS(t)
	a, b := node(t, s, Options{PresenceTTL: time.Second}), node(t, s, Options{PresenceTTL: time.Second})
	ctx := context.Background()
	require.NoError(t, a.Claim(ctx, "lobby", "alice", "alice"))
	start := time.Now()
	require.Eventually(t, func() bool {
		members, err := b.Members(ctx, "lobby")
		return err == nil && len(members) == 0
	}, 10*time.Second, 20*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "not before its TTL")
	require.NoError(t, b.Claim(ctx, "lobby", "alice", "alice"))
}

// Events reach the listeners of every process at once and are not kept.
func TestNotify(t *testing.T) {
	s := startNATS(t)
	a, b := node(t, s, Options{}), node(t, s, Options{})
	var onA, onB collector
	stopA, err := a.Listen("lobby", onA.add)
	require.NoError(t, err)
	defer stopA()
	stopB, err := b.Listen("lobby", onB.add)
	require.NoError(t, err)
	defer stopB()
	require.NoError(t, b.nc.Flush()) // the subscriptions are in place
	require.NoError(t, a.nc.Flush())

	require.NoError(t, a.Notify("lobby", []byte("alice joined")))
	require.NoError(t, a.Notify("kitchen", []byte("elsewhere")))
	assert.Equal(t, []string{"alice joined"}, onA.waitFor(t, 1))
	assert.Equal(t, []string{"alice joined"}, onB.waitFor(t, 1))

	var late collector
	stopLate, err := b.Listen("lobby", late.add)
	require.NoError(t, err)
	defer stopLate()
	require.NoError(t, b.nc.Flush())
	require.NoError(t, a.Notify("lobby", []byte("bob joined")))
	assert.Equal(t, []string{"bob joined"}, late.waitFor(t, 1), "nothing of before")
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
