//go:build !js

package wsproto

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStreamCopy runs 100 MiB (16 MiB under the race detector) of
// pseudo-random bytes through io.Copy into a stream, and out of the
// stream at the other end into a hash, each way: the digests match, and
// the peer's normal close reads as io.EOF.
func TestStreamCopy(t *testing.T) {
	size := int64(100 << 20)
	if raceEnabled {
		size = 16 << 20
	}
	for _, dir := range []string{"client to server", "server to client"} {
		t.Run(dir, func(t *testing.T) {
			checkGoroutines(t)
			server, client := pair(t, nil, nil)
			from, to := client, server
			if dir == "server to client" {
				from, to = server, client
			}
			src := io.LimitReader(rand.NewChaCha8([32]byte{7}), size)
			sent := sha256.New()
			copied := make(chan error, 1)
			go func() {
				w := from.Stream(MessageBinary)
				_, err := io.Copy(w, io.TeeReader(src, sent))
				if err == nil {
					err = w.Close()
				}
				copied <- err
			}()
			got := sha256.New()
			n, err := io.Copy(got, to.Stream(MessageBinary))
			require.NoError(t, err, "a normal close is the end of the stream")
			assert.Equal(t, size, n)
			require.NoError(t, <-copied)
			assert.Equal(t, sent.Sum(nil), got.Sum(nil))
		})
	}
}

// TestStreamDeadline: a read deadline that passes fails the read with a
// net.Error whose Timeout is true, as net/http and friends test it, and
// closes the WebSocket.
func TestStreamDeadline(t *testing.T) {
	server, client := pair(t, nil, nil)
	s := server.Stream(MessageText)
	require.NoError(t, s.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err := s.Read(make([]byte, 10))
	ne, ok := err.(net.Error)
	require.True(t, ok, "%T %v", err, err)
	assert.True(t, ne.Timeout())
	_, _, err = client.ReadMessage(context.Background(), nil)
	assert.Equal(t, CloseAbnormalClosure, CloseStatus(err))

	// Messages' boundaries do not show: three writes read as one stream.
	server, client = pair(t, nil, nil)
	w, r := client.Stream(MessageText), server.Stream(MessageText)
	read := make(chan string, 1)
	go func() {
		all, err := io.ReadAll(r)
		assert.NoError(t, err)
		read <- string(all)
	}()
	for _, p := range []string{"one ", "", "two ", "three"} {
		_, err := w.Write([]byte(p))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close(), "the reading end answers the close")
	assert.Equal(t, "one two three", <-read)
	_, err = w.Write([]byte("late"))
	assert.True(t, errors.Is(err, ErrClosed))
}

// TestJSON: values go out as text messages and come back decoded; a
// message that is not JSON is the decoder's error, and the connection
// goes on.
func TestJSON(t *testing.T) {
	server, client := pair(t, nil, nil)
	ctx := context.Background()
	type note struct {
		From string   `json:"from"`
		Text string   `json:"text"`
		Tags []string `json:"tags,omitempty"`
	}
	in := note{From: "alice", Text: "héllo", Tags: []string{"a", "b"}}
	require.NoError(t, client.WriteJSON(ctx, in))
	typ, raw, err := server.ReadMessage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, MessageText, typ)
	assert.JSONEq(t, `{"from":"alice","text":"héllo","tags":["a","b"]}`, string(raw))
	assert.NotContains(t, string(raw), "\n")

	require.NoError(t, client.WriteJSON(ctx, in))
	var out note
	require.NoError(t, server.ReadJSON(ctx, &out))
	assert.Equal(t, in, out)

	require.NoError(t, client.WriteMessage(ctx, MessageText, []byte("not json")))
	var syntax *json.SyntaxError
	require.ErrorAs(t, server.ReadJSON(ctx, &out), &syntax)
	require.NoError(t, client.WriteJSON(ctx, note{From: "bob"}))
	require.NoError(t, server.ReadJSON(ctx, &out))
	assert.Equal(t, "bob", out.From)
	assert.Error(t, client.WriteJSON(ctx, func() {}), "a value JSON cannot encode")
}
