//go:build !js

package wsproto

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSignal: waiters made before and after the signal fires all see it;
// firing twice is harmless; a signal nobody waited on makes no channel.
func TestSignal(t *testing.T) {
	var s signal
	assert.False(t, s.fired())
	assert.Nil(t, s.ch.Load(), "no channel until someone waits")

	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-s.done()
		}()
	}
	require.Eventually(t, func() bool { return s.ch.Load() != nil }, 5*time.Second, time.Millisecond, "someone waits")
	s.fire()
	s.fire()
	ok := make(chan struct{})
	go func() { wg.Wait(); close(ok) }()
	select {
	case <-ok:
	case <-time.After(2 * time.Second):
		t.Fatal("waiters did not wake")
	}
	assert.True(t, s.fired())
	select {
	case <-s.done():
	default:
		t.Fatal("done after firing must be closed")
	}

	var quiet signal
	quiet.fire()
	require.True(t, quiet.fired())
	_, open := <-quiet.done()
	assert.False(t, open)
}
