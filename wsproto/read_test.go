//go:build !js

package wsproto

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type streamMsg struct {
	typ  MessageType
	data []byte
}

// randomStream builds many messages of mixed sizes, some fragmented, with
// control frames between fragments and between messages, as one byte string
// of masked frames.
func randomStream(r *rand.Rand, n int) ([]streamMsg, []byte) {
	sizes := []int{0, 1, 2, 13, 125, 126, 127, 200, 255, 256, 257, 300, 511, 512, 513,
		1000, 4081, 4082, 4096, 4097, 8192, 65535, 65536, 70000, 200000}
	var msgs []streamMsg
	var wire []byte
	for i := range n {
		size := sizes[r.IntN(len(sizes))]
		if r.IntN(3) == 0 {
			size = r.IntN(600)
		}
		data := make([]byte, size)
		typ := MessageBinary
		if r.IntN(2) == 0 {
			typ = MessageText
			for j := range data {
				data[j] = byte('a' + (i+j)%26)
			}
			// Put a multi-byte rune in somewhere, to cross frame splits.
			if size >= 4 {
				copy(data[r.IntN(size-3):], "\xf0\x9f\x98\x80")
			}
		} else {
			for j := range data {
				data[j] = byte(r.Uint32())
			}
		}
		msgs = append(msgs, streamMsg{typ, data})
		// Split into fragments.
		nfrag := 1 + r.IntN(4)
		rest := data
		op := frame.Opcode(typ)
		for f := range nfrag {
			k := len(rest)
			if f < nfrag-1 && len(rest) > 0 {
				k = r.IntN(len(rest) + 1)
			}
			key := [4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
			wire = append(wire, maskedFrameBytes(f == nfrag-1, op, key, rest[:k])...)
			rest = rest[k:]
			op = frame.OpContinuation
			if r.IntN(5) == 0 {
				ping := make([]byte, r.IntN(126))
				wire = append(wire, maskedFrameBytes(true, frame.OpPing, key, ping)...)
			}
			if r.IntN(5) == 0 {
				wire = append(wire, maskedFrameBytes(true, frame.OpPong, key, []byte("pong"))...)
			}
		}
	}
	return msgs, wire
}

// TestBackToBackFrames sends many frames back to back in few writes (the
// first batch in the same write as the handshake, so that the server starts
// with a leftover), and checks that every message arrives intact, for
// several read buffer sizes, through ReadMessage and through NextReader with
// odd-sized reads.
func TestBackToBackFrames(t *testing.T) {
	for _, rbs := range []int{0, 1, 512, 513, 777, 4096, 65536} {
		for _, mode := range []string{"ReadMessage", "NextReader"} {
			t.Run(fmt.Sprintf("%s/rbs=%d", mode, rbs), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(rbs), 7))
				msgs, wire := randomStream(r, 150)
				addr, conns, _ := listenRaw(t, &UpgradeOptions{ReadBufferSize: rbs})
				// The first up to 3000 bytes go with the handshake request.
				first := min(len(wire), 1000+r.IntN(2000))
				rc := dialRaw(t, addr, wire[:first])
				c := <-conns
				_ = rc.nc.SetDeadline(time.Now().Add(20 * time.Second))
				go func() { _, _ = io.Copy(io.Discard, rc.br) }() // pongs
				go func() {
					rest := wire[first:]
					for len(rest) > 0 {
						k := min(len(rest), 1+r.IntN(100000))
						if _, err := rc.nc.Write(rest[:k]); err != nil {
							return
						}
						rest = rest[k:]
					}
				}()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				var buf []byte
				rr := rand.New(rand.NewPCG(3, uint64(rbs)))
				for i, m := range msgs {
					var typ MessageType
					var got []byte
					var err error
					if mode == "ReadMessage" {
						typ, got, err = c.ReadMessage(ctx, buf)
						buf = got
					} else {
						var rd io.Reader
						typ, rd, err = c.NextReader(ctx)
						if err == nil {
							var out bytes.Buffer
							p := make([]byte, 1+rr.IntN(5000))
							for {
								n, rerr := rd.Read(p[:1+rr.IntN(len(p))])
								out.Write(p[:n])
								if rerr == io.EOF {
									break
								}
								require.NoError(t, rerr, "message %d", i)
							}
							got = out.Bytes()
						}
					}
					require.NoError(t, err, "message %d", i)
					require.Equal(t, m.typ, typ, "message %d", i)
					require.True(t, bytes.Equal(m.data, got), "message %d: %d bytes sent, %d received", i, len(m.data), len(got))
				}
			})
		}
	}
}

// TestClientBackToBackFrames: the client end reads many unmasked frames
// that arrive back to back, the first of them in the same write as the 101
// response (so Dial hands a leftover to the Conn), for several read buffer
// sizes.
func TestClientBackToBackFrames(t *testing.T) {
	for _, rbs := range []int{0, 512, 1000, 4096} {
		t.Run(fmt.Sprintf("rbs=%d", rbs), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(rbs), 11))
			msgs, masked := randomStream(r, 120)
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
			first := min(len(wire), 500+r.IntN(3000))
			srv := newRawServer(t, wire[:first])
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, _, err := Dial(ctx, "ws://"+srv.addr, &DialOptions{ReadBufferSize: rbs})
			require.NoError(t, err)
			defer c.CloseNow()
			peer := <-srv.conns
			_ = peer.nc.SetDeadline(time.Now().Add(20 * time.Second))
			go func() { _, _ = io.Copy(io.Discard, peer.br) }()
			go func() { _, _ = peer.nc.Write(wire[first:]) }()
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

// TestHugeReadLimit: with a huge read limit, a 14-byte header announcing an
// enormous frame must not make ReadMessage reserve that much (it would panic
// or exhaust memory): room grows only with the bytes that arrive.
func TestHugeReadLimit(t *testing.T) {
	addr, conns, _ := listenRaw(t, &UpgradeOptions{ReadLimit: 1 << 62})
	h := frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 61}
	dialRaw(t, addr, frame.AppendHeader(nil, h))
	c := <-conns

	result := make(chan string, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				result <- fmt.Sprint("panic: ", r)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _, err := c.ReadMessage(ctx, nil)
		result <- fmt.Sprint("error: ", err)
	}()
	select {
	case r := <-result:
		assert.NotContains(t, r, "panic", "bad input must never panic")
	case <-time.After(10 * time.Second):
		t.Fatal("ReadMessage did not return")
	}
}
