package fair

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReserve(t *testing.T) {
	start := time.Now()
	at := func(d time.Duration) time.Time { return start.Add(d) }

	t.Run("burst, then the rate", func(t *testing.T) {
		b := New(Limits{Messages: 10, MessageBurst: 3})
		b.msgs.last = start
		for i := range 3 {
			assert.Zero(t, b.reserve(1, start), "message %d is within the burst", i)
		}
		assert.Equal(t, 100*time.Millisecond, b.reserve(1, start), "the 4th waits for one token")
		assert.Equal(t, 200*time.Millisecond, b.reserve(1, start), "the 5th for two")
		// 300 ms later the debt of 2 is paid and one more token came.
		assert.Zero(t, b.reserve(1, at(300*time.Millisecond)))
		assert.Equal(t, 100*time.Millisecond, b.reserve(1, at(300*time.Millisecond)))
	})
	t.Run("a full bucket stays full", func(t *testing.T) {
		b := New(Limits{Messages: 10, MessageBurst: 3})
		b.msgs.last = start
		for range 3 {
			b.reserve(1, at(time.Hour))
		}
		assert.Equal(t, 100*time.Millisecond, b.reserve(1, at(time.Hour)), "an hour's idling refills the burst, no more")
	})
	t.Run("bytes", func(t *testing.T) {
		b := New(Limits{Bytes: 1000, ByteBurst: 2000})
		b.bytes.last = start
		assert.Zero(t, b.reserve(2000, start))
		assert.Equal(t, 500*time.Millisecond, b.reserve(500, start))
		assert.Equal(t, 5*time.Second, b.reserve(4500, start), "a message past the burst goes into debt")
	})
	t.Run("the longer wait of the two wins", func(t *testing.T) {
		b := New(Limits{Messages: 10, MessageBurst: 1, Bytes: 1000, ByteBurst: 1000})
		b.msgs.last, b.bytes.last = start, start
		assert.Zero(t, b.reserve(1000, start))
		assert.Equal(t, time.Second, b.reserve(1000, start))
		assert.Equal(t, 2*time.Second, b.reserve(1000, at(0)))
	})
	t.Run("zero limits nothing", func(t *testing.T) {
		b := New(Limits{})
		for range 1000 {
			require.Zero(t, b.reserve(1<<20, start))
		}
	})
}

// TestDefaultLetsPeopleType: someone typing a message a second, or pasting
// the chat's longest message (2000 runes of up to 4 bytes, as JSON) five
// times in a row, never waits.
func TestDefaultLetsPeopleType(t *testing.T) {
	start := time.Now()
	b := New(Default)
	b.msgs.last, b.bytes.last = start, start
	for i := range 600 {
		require.Zero(t, b.reserve(200, start.Add(time.Duration(i)*time.Second)), "message %d", i)
	}
	b = New(Default)
	b.msgs.last, b.bytes.last = start, start
	for i := range 5 {
		require.Zero(t, b.reserve(2000*4+30, start), "paste %d", i)
	}
}

func TestAllow(t *testing.T) {
	b := New(Limits{Messages: 1, MessageBurst: 2, Bytes: 1, ByteBurst: 100})
	assert.True(t, b.Allow(60))
	assert.False(t, b.Allow(60), "60 bytes more would go into debt")
	assert.True(t, b.Allow(40), "a refusal takes nothing")
	assert.False(t, b.Allow(0), "the two messages of the burst are spent")
}

func TestSpendEndsWithContext(t *testing.T) {
	b := New(Limits{Messages: 1, MessageBurst: 1})
	require.NoError(t, b.Spend(context.Background(), 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, b.Spend(ctx, 1), context.Canceled, "the next message would wait a second")
}
