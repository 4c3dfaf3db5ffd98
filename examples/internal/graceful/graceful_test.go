//go:build !js

package graceful

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnsAfterCloseAll: once CloseAll has begun, Closing has ended and a
// connection that arrives is refused with 1001 within the grace, even from
// a peer that never answers the close.
func TestConnsAfterCloseAll(t *testing.T) {
	var cs Conns
	closing := cs.Closing()
	require.NoError(t, closing.Err())
	cs.CloseAll()
	assert.ErrorIs(t, closing.Err(), context.Canceled)
	assert.ErrorIs(t, cs.Closing().Err(), context.Canceled)

	added := make(chan bool, 1)
	took := make(chan time.Duration, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wsproto.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		start := time.Now()
		added <- cs.Add(c)
		took <- time.Since(start)
	}))
	defer srv.Close()
	// The client reads nothing, so it never answers the close frame.
	c, _, err := wsproto.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	defer c.CloseNow()
	assert.False(t, <-added)
	assert.Less(t, <-took, 5*time.Second, "Add waited for the close timeout")
	assert.Zero(t, cs.Len())

	_, _, err = c.ReadMessage(context.Background(), nil)
	ce, ok := errors.AsType[*wsproto.CloseError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, wsproto.CloseGoingAway, ce.Code)
}
