//go:build !js

package wsproto

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHandler: the handler returns as soon as the connection is upgraded,
// while serve goes on with it on a goroutine of its own; a bad request is
// answered and serve is not called.
func TestHandler(t *testing.T) {
	returned := make(chan struct{}, 1)
	served := make(chan string, 1)
	h := Handler(nil, func(c *Conn, r *http.Request) {
		defer c.CloseNow()
		<-returned // the handler returned before serve read anything
		typ, p, err := c.ReadMessage(context.Background(), nil)
		if err == nil {
			err = c.WriteMessage(context.Background(), typ, p)
		}
		if err != nil {
			served <- err.Error()
			return
		}
		served <- r.URL.Query().Get("who")
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		returned <- struct{}{}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	c, _, err := Dial(context.Background(), url+"/?who=alice", nil)
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, c.WriteMessage(context.Background(), MessageText, []byte("hi")))
	_, p, err := c.ReadMessage(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(p))
	assert.Equal(t, "alice", <-served, "serve has the request")

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUpgradeRequired, resp.StatusCode, "a plain GET is refused")
	<-returned
	select {
	case s := <-served:
		t.Fatalf("serve ran for a refused request: %q", s)
	default:
	}
}
