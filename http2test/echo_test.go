package http2test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every message size of wsproto's end-to-end tests, both types, both ways:
// the client sends, the server echoes.
func TestEcho(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			checkGoroutines(t)
			s := startServer(t, mode, http2Only(echo(nil, nil)))
			c := s.dial(t, "/", nil)
			defer c.CloseNow()
			ctx := context.Background()
			for _, n := range []int{0, 1, 125, 126, 65535, 65536, 16 << 20} {
				for _, typ := range []wsproto.MessageType{wsproto.MessageBinary, wsproto.MessageText} {
					msg := bytes.Repeat([]byte("aé"), n/3+1)[:n]
					if typ == wsproto.MessageText {
						msg = []byte(strings.ToValidUTF8(string(msg), "a"))
					}
					require.NoError(t, c.WriteMessage(ctx, typ, msg))
					gotType, got, err := c.ReadMessage(ctx, nil)
					require.NoError(t, err, "%v of %d bytes", typ, n)
					assert.Equal(t, typ, gotType)
					require.True(t, bytes.Equal(msg, got), "%v of %d bytes", typ, n)
				}
			}
			require.NoError(t, c.Close(wsproto.CloseNormalClosure, "bye"))

			reqs := s.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, request{"HTTP/2.0", "CONNECT", "websocket"}, reqs[0])
		})
	}
}

// A message streamed in many frames, both ways, with pings going out
// between its frames; and pings answered both ways.
func TestFragmentsAndPings(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			checkGoroutines(t)
			server, client, _ := pair(t, mode, nil, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			// The server streams its answer back as it reads, frame by
			// frame, then reads on, so that pings are answered.
			pingSeen := make(chan struct{}, 1)
			server.SetPingHandler(func([]byte) { pingSeen <- struct{}{} })
			served := make(chan error, 1)
			serverEnd := make(chan error, 1)
			go func() {
				served <- streamEcho(ctx, server)
				_, _, err := server.ReadMessage(ctx, nil)
				serverEnd <- err
			}()

			w, err := client.NextWriter(ctx, wsproto.MessageText)
			require.NoError(t, err)
			var want strings.Builder
			pinged := make(chan error, 1)
			for i := range 50 {
				part := fmt.Sprintf("part %d; ", i)
				want.WriteString(part)
				_, err := io.WriteString(w, part)
				require.NoError(t, err)
				require.NoError(t, w.Flush(), "each part is a frame of its own")
				if i == 25 {
					// A ping between the frames of the message: it
					// reaches the server before the next part goes.
					go func() {
						_, err := client.Ping(ctx, []byte("mid-message"))
						pinged <- err
					}()
					<-pingSeen
				}
			}
			require.NoError(t, w.Close())
			typ, got, err := client.ReadMessage(ctx, nil)
			require.NoError(t, err)
			assert.Equal(t, wsproto.MessageText, typ)
			assert.Equal(t, want.String(), string(got))
			require.NoError(t, <-served)
			require.NoError(t, <-pinged, "the pong came back between the frames of the echo")

			// The server pings the client, whose read answers.
			clientRead := make(chan error, 1)
			go func() {
				_, _, err := client.ReadMessage(ctx, nil)
				clientRead <- err
			}()
			rtt, err := server.Ping(ctx, []byte("from the server"))
			require.NoError(t, err)
			assert.Positive(t, rtt)
			require.NoError(t, server.Close(wsproto.CloseNormalClosure, ""))
			assert.Equal(t, wsproto.CloseNormalClosure, wsproto.CloseStatus(<-clientRead))
			assert.Equal(t, wsproto.CloseNormalClosure, wsproto.CloseStatus(<-serverEnd))
		})
	}
}

// streamEcho echoes one message on c as it arrives, a frame for each read.
func streamEcho(ctx context.Context, c *wsproto.Conn) error {
	typ, r, err := c.NextReader(ctx)
	if err != nil {
		return err
	}
	w, err := c.NextWriter(ctx, typ)
	if err != nil {
		return err
	}
	buf := make([]byte, 1000)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if werr := w.Flush(); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return w.Close()
		}
		if err != nil {
			return err
		}
	}
}

// permessage-deflate over HTTP/2, with every parameter of RFC 7692.
func TestCompression(t *testing.T) {
	for _, tc := range []struct {
		name           string
		server, client wsproto.CompressionOptions
	}{
		{"defaults", wsproto.CompressionOptions{}, wsproto.CompressionOptions{}},
		{"server_no_context_takeover", wsproto.CompressionOptions{ServerNoContextTakeover: true}, wsproto.CompressionOptions{}},
		{"client_no_context_takeover", wsproto.CompressionOptions{}, wsproto.CompressionOptions{ClientNoContextTakeover: true}},
		{"both no takeover", wsproto.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, wsproto.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"server_max_window_bits", wsproto.CompressionOptions{ServerMaxWindowBits: 9}, wsproto.CompressionOptions{}},
		{"client_max_window_bits", wsproto.CompressionOptions{}, wsproto.CompressionOptions{ClientMaxWindowBits: 10}},
		{"both windows", wsproto.CompressionOptions{ServerMaxWindowBits: 12, ClientMaxWindowBits: 11}, wsproto.CompressionOptions{ServerMaxWindowBits: 12, ClientMaxWindowBits: 11}},
		{"level 9, threshold 0", wsproto.CompressionOptions{Level: 9, Threshold: -1}, wsproto.CompressionOptions{Level: 9, Threshold: -1}},
	} {
		for _, mode := range modes {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				checkGoroutines(t)
				s := startServer(t, mode, http2Only(echo(&wsproto.UpgradeOptions{Compression: &tc.server}, nil)))
				c := s.dial(t, "/", &wsproto.DialOptions{Compression: &tc.client})
				defer c.CloseNow()
				ctx := context.Background()
				for i, n := range []int{0, 10, 200, 5000, 300 << 10} {
					msg := []byte(strings.Repeat(fmt.Sprintf(`{"n":%d,"text":"compressible"},`, i), n/30+1)[:n])
					require.NoError(t, c.WriteMessage(ctx, wsproto.MessageText, msg))
					_, got, err := c.ReadMessage(ctx, nil)
					require.NoError(t, err)
					require.Equal(t, string(msg), string(got))
				}
				require.NoError(t, c.Close(wsproto.CloseNormalClosure, ""))
			})
		}
	}
}
