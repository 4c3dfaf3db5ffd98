package wsproto

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/stretchr/testify/require"
)

// TestReviewClientBackToBackFrames: the client end reads many unmasked
// frames that arrive back to back, the first of them in the same write as
// the 101 response (so Dial hands a leftover to the Conn), for several
// read buffer sizes.
func TestReviewClientBackToBackFrames(t *testing.T) {
	for _, rbs := range []int{0, 512, 1000, 4096} {
		t.Run(fmt.Sprintf("rbs=%d", rbs), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(rbs), 11))
			msgs, masked := reviewStream(r, 120)
			// Re-encode unmasked: decode the masked stream frame by frame.
			var wire []byte
			for rest := masked; len(rest) > 0; {
				h, n, err := frame.ParseHeader(rest)
				require.NoError(t, err)
				p := append([]byte{}, rest[n:n+int(h.Length)]...)
				frame.Mask(h.Mask, 0, p)
				h.Masked = false
				wire = frame.AppendHeader(wire, h)
				wire = append(wire, p...)
				rest = rest[n+int(h.Length):]
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			finished := make(chan struct{})
			defer close(finished)
			go func() {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(nc)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
					"Sec-WebSocket-Accept: " + handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
				first := min(len(wire), 500+r.IntN(3000))
				if _, err := nc.Write(append([]byte(resp), wire[:first]...)); err != nil {
					return
				}
				go func() { _, _ = io.Copy(io.Discard, br) }()
				_, _ = nc.Write(wire[first:])
				<-finished
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, _, err := Dial(ctx, "ws://"+ln.Addr().String(), &DialOptions{ReadBufferSize: rbs})
			require.NoError(t, err)
			defer c.CloseNow()
			var buf []byte
			for i, m := range msgs {
				typ, got, err := c.ReadMessage(ctx, buf)
				require.NoError(t, err, "message %d", i)
				require.Equal(t, m.typ, typ, "message %d", i)
				require.True(t, bytes.Equal(m.data, got), "message %d", i)
				buf = got
			}
		})
	}
}
