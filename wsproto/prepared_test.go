//go:build !js

package wsproto

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewPreparedMessageType(t *testing.T) {
	for _, typ := range []MessageType{0, MessageType(frame.OpClose), MessageType(frame.OpPing), 3} {
		_, err := NewPreparedMessage(typ, []byte("x"))
		assert.ErrorIs(t, err, ErrBadMessageType, "type %d", typ)
	}
	m, err := NewPreparedMessage(MessageText, []byte("héllo"))
	require.NoError(t, err)
	assert.Equal(t, MessageText, m.Type())
	assert.Equal(t, 6, m.Len())
}

// TestWritePrepared sends prepared messages both ways, with every kind of
// compression, between other messages, and checks what arrives.
func TestWritePrepared(t *testing.T) {
	kinds := []struct {
		name string
		z    *CompressionOptions
	}{
		{"plain", nil},
		{"deflate-no-takeover", &CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"deflate-takeover", &CompressionOptions{}},
		{"deflate-small-window", &CompressionOptions{ServerNoContextTakeover: true, ServerMaxWindowBits: 9, Level: 9}},
	}
	sizes := []int{0, 1, 125, 126, 1 << 10, 65535, 65536, 300 << 10}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			server, client := pair(t, &UpgradeOptions{Compression: k.z}, &DialOptions{Compression: k.z})
			ctx := context.Background()
			for _, size := range sizes {
				for _, typ := range []MessageType{MessageText, MessageBinary} {
					p := payload(size, typ == MessageText)
					m, err := NewPreparedMessage(typ, p)
					require.NoError(t, err)
					other := payload(size/2+100, true)
					for _, pair := range [][2]*Conn{{server, client}, {client, server}} {
						from, to := pair[0], pair[1]
						// A plain message on each side of the prepared one checks
						// that the compressors' histories stay in step.
						got := make(chan error, 1)
						go func() {
							got <- func() error {
								for _, want := range [][]byte{other, p, other} {
									_, b, err := to.ReadMessage(ctx, nil)
									if err != nil {
										return err
									}
									if string(b) != string(want) {
										return fmt.Errorf("got %d bytes, want %d", len(b), len(want))
									}
								}
								return nil
							}()
						}()
						require.NoError(t, from.WriteMessage(ctx, MessageText, other))
						require.NoError(t, from.WritePrepared(ctx, m))
						require.NoError(t, from.WriteMessage(ctx, MessageText, other))
						require.NoError(t, <-got, "size %d %v", size, typ)
					}
				}
			}
		})
	}
}

// TestWritePreparedShared checks that one prepared message reaches many
// connections and is compressed once for all those with the same compressor.
func TestWritePreparedShared(t *testing.T) {
	z := &CompressionOptions{ServerNoContextTakeover: true}
	msg := jsonMessage()
	m, err := NewPreparedMessage(MessageText, msg)
	require.NoError(t, err)
	ctx := context.Background()
	for range 3 {
		server, client := pair(t, &UpgradeOptions{Compression: z}, &DialOptions{Compression: z})
		require.NoError(t, server.WritePrepared(ctx, m))
		_, got, err := client.ReadMessage(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, msg, got)
	}
	require.Len(t, m.packed, 1)
	assert.Less(t, len(m.packed[0].frame), len(msg)/2, "the shared frame is compressed")
	assert.True(t, m.packed[0].frame[0]&0x40 != 0, "RSV1 is set")
}

// TestWritePreparedWire reads the server's frames as bytes: the plain frame
// is exactly the message, the compressed one carries RSV1 and inflates back.
func TestWritePreparedWire(t *testing.T) {
	msg := payload(2000, true)
	m, err := NewPreparedMessage(MessageText, msg)
	require.NoError(t, err)
	for _, ext := range []string{"", "permessage-deflate; server_no_context_takeover"} {
		t.Run(ext, func(t *testing.T) {
			addr, conns, _ := listenRaw(t, &UpgradeOptions{Compression: &CompressionOptions{}})
			header := ""
			if ext != "" {
				header = "Sec-WebSocket-Extensions: " + ext + "\r\n"
			}
			raw := dialRawWith(t, addr, header)
			server := <-conns
			require.NoError(t, server.WritePrepared(context.Background(), m))
			h, p := raw.readFrame()
			assert.True(t, h.Fin)
			assert.Equal(t, frame.OpText, h.Opcode)
			if ext == "" {
				assert.False(t, h.Rsv1)
				assert.Equal(t, msg, p)
				return
			}
			assert.True(t, h.Rsv1)
			assert.Equal(t, msg, inflateMessage(t, p, nil))
		})
	}
}

func TestWritePreparedClosed(t *testing.T) {
	server, client := pair(t, nil, nil)
	m, err := NewPreparedMessage(MessageBinary, []byte{1, 2, 3})
	require.NoError(t, err)
	readInBackground(client)
	require.NoError(t, server.Close(frame.CloseNormalClosure, ""))
	assert.ErrorIs(t, server.WritePrepared(context.Background(), m), ErrClosed)
}

func TestWritePreparedCancelled(t *testing.T) {
	server, _ := pair(t, nil, nil)
	m, err := NewPreparedMessage(MessageBinary, []byte{1})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, server.WritePrepared(ctx, m), context.Canceled)
}

func TestWritePreparedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, z := range []*CompressionOptions{nil, {ServerNoContextTakeover: true}} {
		c := discardConn(z)
		m, err := NewPreparedMessage(MessageText, jsonMessage())
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, c.WritePrepared(ctx, m))
		allocs := testing.AllocsPerRun(100, func() {
			if err := c.WritePrepared(ctx, m); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "compression %v", z != nil)
	}
}

// BenchmarkBroadcast sends one 1 KiB message to 10,000 server connections,
// prepared once or written to each, plain and compressed. The connections
// discard what they are given, so this measures encoding, not the network.
func BenchmarkBroadcast(b *testing.B) {
	const recipients = 10_000
	msg := jsonMessage()
	for _, kind := range []struct {
		name string
		z    *CompressionOptions
	}{{"plain", nil}, {"deflate", &CompressionOptions{ServerNoContextTakeover: true}}} {
		conns := make([]*Conn, recipients)
		for i := range conns {
			conns[i] = discardConn(kind.z)
		}
		ctx := context.Background()
		b.Run(kind.name+"/each", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range conns {
					if err := c.WriteMessage(ctx, MessageText, msg); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(kind.name+"/prepared", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := NewPreparedMessage(MessageText, msg)
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range conns {
					if err := c.WritePrepared(ctx, m); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// discardConn is a server Conn, with permessage-deflate if z is not nil,
// over a connection that takes every write and never has anything to read.
func discardConn(z *CompressionOptions) *Conn {
	var zc *compression
	if z != nil {
		zc = newCompression(z, negotiated{serverNoTakeover: z.ServerNoContextTakeover, serverBits: 15, clientBits: 15}, false)
	}
	return newConn(discard{}, false, "", connConfig{}, nil, zc)
}

type discard struct{ net.Conn }

func (discard) Write(p []byte) (int, error)       { return len(p), nil }
func (discard) SetWriteDeadline(time.Time) error  { return nil }
func (discard) SetDeadline(time.Time) error       { return nil }
func (discard) SetReadDeadline(t time.Time) error { return nil }
func (discard) Close() error                      { return nil }
func (discard) RemoteAddr() net.Addr              { return &net.TCPAddr{} }
func (discard) LocalAddr() net.Addr               { return &net.TCPAddr{} }
