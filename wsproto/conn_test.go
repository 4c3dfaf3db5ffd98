//go:build !js

package wsproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func payload(size int, text bool) []byte {
	p := make([]byte, size)
	rng := rand.New(rand.NewPCG(uint64(size), 7))
	for i := range p {
		if text {
			p[i] = byte('a' + rng.IntN(26))
		} else {
			p[i] = byte(rng.Uint32())
		}
	}
	if text && size >= 4 {
		copy(p[size/2:], "é€") // multi-byte runes, split across frames when fragmented
	}
	return p
}

func TestEcho(t *testing.T) {
	checkGoroutines(t)
	server, client := pair(t, nil, nil)
	done := echoLoop(server)
	ctx := context.Background()

	sizes := []int{0, 1, 125, 126, 65535, 65536, 16 << 20}
	for _, typ := range []MessageType{MessageText, MessageBinary} {
		for _, size := range sizes {
			for _, fragmented := range []bool{false, true} {
				name := fmt.Sprintf("%v/%d/fragmented=%v", typ, size, fragmented)
				t.Run(name, func(t *testing.T) {
					msg := payload(size, typ == MessageText)
					if fragmented {
						w, err := client.NextWriter(ctx, typ)
						require.NoError(t, err)
						for p := msg; len(p) > 0; {
							n := min(len(p), 1+len(p)/3)
							_, err := w.Write(p[:n])
							require.NoError(t, err)
							require.NoError(t, w.Flush())
							p = p[n:]
						}
						require.NoError(t, w.Close())
					} else {
						require.NoError(t, client.WriteMessage(ctx, typ, msg))
					}
					gotType, got, err := client.ReadMessage(ctx, nil)
					require.NoError(t, err)
					assert.Equal(t, typ, gotType)
					require.True(t, bytes.Equal(msg, got), "echo differs")
				})
			}
		}
	}

	require.NoError(t, client.Close(frame.CloseNormalClosure, "done"))
	err := <-done
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, frame.CloseNormalClosure, ce.Code)
	assert.Equal(t, "done", ce.Reason)
}

func TestNextReaderStreams(t *testing.T) {
	server, client := pair(t, nil, nil)
	ctx := context.Background()
	msg := payload(100_000, false)
	go func() { _ = client.WriteMessage(ctx, MessageBinary, msg) }()

	typ, r, err := server.NextReader(ctx)
	require.NoError(t, err)
	assert.Equal(t, MessageBinary, typ)
	var got bytes.Buffer
	buf := make([]byte, 777)
	for {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.True(t, bytes.Equal(msg, got.Bytes()))
}

func TestNextReaderSkipsUnreadRest(t *testing.T) {
	server, client := pair(t, nil, nil)
	ctx := context.Background()
	require.NoError(t, client.WriteMessage(ctx, MessageText, []byte("first message, read in part")))
	require.NoError(t, client.WriteMessage(ctx, MessageText, []byte("second")))

	_, r, err := server.NextReader(ctx)
	require.NoError(t, err)
	part := make([]byte, 5)
	_, err = io.ReadFull(r, part)
	require.NoError(t, err)
	assert.Equal(t, "first", string(part))

	_, got, err := server.ReadMessage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "second", string(got))
}

func TestPingPong(t *testing.T) {
	server, client := pair(t, nil, nil)
	ctx := context.Background()

	pings := make(chan string, 1)
	server.SetPingHandler(func(p []byte) { pings <- string(p) })
	pongs := make(chan string, 1)
	client.SetPongHandler(func(p []byte) { pongs <- string(p) })
	done := echoLoop(server)

	rtt, err := client.Ping(ctx, []byte("are you there?"))
	require.NoError(t, err)
	assert.Positive(t, rtt)
	require.NoError(t, client.WriteMessage(ctx, MessageText, []byte("after the ping")))
	_, got, err := client.ReadMessage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "after the ping", string(got))
	assert.Equal(t, "are you there?", <-pings)
	assert.Equal(t, "are you there?", <-pongs)

	_, err = client.Ping(ctx, make([]byte, 126))
	assert.ErrorIs(t, err, ErrControlTooLong)
	require.NoError(t, client.Close(frame.CloseNormalClosure, ""))
	<-done
}

func TestControlFramesBetweenFragments(t *testing.T) {
	addr, conns, _ := listenRaw(t, nil)
	rc := dialRaw(t, addr)
	server := <-conns
	done := echoLoop(server)

	rc.send(
		frameBytes(false, frame.OpText, true, []byte("Hel")),
		frameBytes(true, frame.OpPing, true, []byte("ping!")),
		frameBytes(false, frame.OpContinuation, true, []byte("lo, ")),
		frameBytes(true, frame.OpPong, true, []byte("unsolicited")),
		frameBytes(true, frame.OpContinuation, true, []byte("world")),
	)
	h, p := rc.readFrame()
	assert.Equal(t, frame.OpPong, h.Opcode)
	assert.Equal(t, "ping!", string(p))
	h, p = rc.readFrame()
	assert.Equal(t, frame.OpText, h.Opcode)
	assert.True(t, h.Fin)
	assert.Equal(t, "Hello, world", string(p))

	rc.send(frameBytes(true, frame.OpClose, true, []byte{0x03, 0xe8}))
	assert.Equal(t, frame.CloseNormalClosure, rc.readClose())
	rc.expectEOF()
	var ce *CloseError
	require.ErrorAs(t, <-done, &ce)
	assert.Equal(t, frame.CloseNormalClosure, ce.Code)
}

// TestProtocolViolations sends each kind of bad input on a real socket and
// checks the close code the server answers with, the error its read
// returns, and that it closes the TCP connection.
func TestProtocolViolations(t *testing.T) {
	bigLen := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 62, Mask: [4]byte{1, 2, 3, 4}})
	for _, tc := range []struct {
		name  string
		limit int64
		wire  [][]byte
		code  frame.CloseCode
		err   error
	}{
		{"rsv1 without extension", 0, [][]byte{{0xc1, 0x80, 1, 2, 3, 4}}, frame.CloseProtocolError, ErrReservedBits},
		{"rsv3", 0, [][]byte{{0x92, 0x80, 1, 2, 3, 4}}, frame.CloseProtocolError, ErrReservedBits},
		{"reserved opcode", 0, [][]byte{frameBytes(true, 3, true, nil)}, frame.CloseProtocolError, frame.ErrReservedOpcode},
		{"reserved control opcode", 0, [][]byte{frameBytes(true, 0xB, true, nil)}, frame.CloseProtocolError, frame.ErrReservedOpcode},
		{"continuation without start", 0, [][]byte{frameBytes(true, frame.OpContinuation, true, []byte("x"))}, frame.CloseProtocolError, ErrUnexpectedContinuation},
		{"new message inside fragmented", 0, [][]byte{frameBytes(false, frame.OpText, true, []byte("a")), frameBytes(true, frame.OpText, true, []byte("b"))}, frame.CloseProtocolError, ErrExpectedContinuation},
		{"unmasked frame", 0, [][]byte{frameBytes(true, frame.OpText, false, []byte("hi"))}, frame.CloseProtocolError, ErrUnmaskedFrame},
		{"fragmented ping", 0, [][]byte{frameBytes(false, frame.OpPing, true, nil)}, frame.CloseProtocolError, frame.ErrFragmentedControl},
		{"ping of 126 bytes", 0, [][]byte{frameBytes(true, frame.OpPing, true, make([]byte, 126))}, frame.CloseProtocolError, frame.ErrControlTooLong},
		{"length 2^63", 0, [][]byte{{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}}, frame.CloseProtocolError, frame.ErrLengthOverflow},
		{"invalid UTF-8", 0, [][]byte{frameBytes(true, frame.OpText, true, []byte("ok\xffok"))}, frame.CloseInvalidFramePayloadData, ErrInvalidUTF8},
		{"UTF-8 split across frames", 0, [][]byte{frameBytes(false, frame.OpText, true, []byte("\xce")), frameBytes(true, frame.OpContinuation, true, []byte("A"))}, frame.CloseInvalidFramePayloadData, ErrInvalidUTF8},
		{"UTF-8 truncated at end", 0, [][]byte{frameBytes(true, frame.OpText, true, []byte("\xe2\x82"))}, frame.CloseInvalidFramePayloadData, ErrInvalidUTF8},
		{"surrogate", 0, [][]byte{frameBytes(true, frame.OpText, true, []byte("\xed\xa0\x80"))}, frame.CloseInvalidFramePayloadData, ErrInvalidUTF8},
		{"over read limit", 100, [][]byte{frameBytes(true, frame.OpBinary, true, make([]byte, 101))}, frame.CloseMessageTooBig, ErrMessageTooBig},
		{"over read limit in fragments", 100, [][]byte{frameBytes(false, frame.OpBinary, true, make([]byte, 60)), frameBytes(true, frame.OpContinuation, true, make([]byte, 60))}, frame.CloseMessageTooBig, ErrMessageTooBig},
		{"huge declared length", 0, [][]byte{bigLen}, frame.CloseMessageTooBig, ErrMessageTooBig},
		{"close with 1-byte payload", 0, [][]byte{frameBytes(true, frame.OpClose, true, []byte{3})}, frame.CloseProtocolError, frame.ErrCloseTooShort},
		{"close code 1005 on the wire", 0, [][]byte{frameBytes(true, frame.OpClose, true, []byte{0x03, 0xed})}, frame.CloseProtocolError, frame.ErrInvalidCloseCode},
		{"close code 999", 0, [][]byte{frameBytes(true, frame.OpClose, true, []byte{0x03, 0xe7})}, frame.CloseProtocolError, frame.ErrInvalidCloseCode},
		{"close reason not UTF-8", 0, [][]byte{frameBytes(true, frame.OpClose, true, []byte{0x03, 0xe8, 0xff})}, frame.CloseInvalidFramePayloadData, frame.ErrInvalidCloseReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			addr, conns, _ := listenRaw(t, &UpgradeOptions{ReadLimit: tc.limit, CloseTimeout: time.Second})
			rc := dialRaw(t, addr)
			server := <-conns
			errc := readInBackground(server)
			rc.send(tc.wire...)
			assert.Equal(t, tc.code, rc.readClose())
			// Our close answers the server's, unless the server does not
			// wait for one: after a bad close frame of ours (we sent our
			// close already) or a length it cannot skip.
			last := tc.wire[len(tc.wire)-1]
			if frame.Opcode(last[0]&0xf) != frame.OpClose && tc.err != frame.ErrLengthOverflow {
				rc.send(frameBytes(true, frame.OpClose, true, []byte{byte(tc.code >> 8), byte(tc.code)}))
			}
			rc.expectEOF()

			err := <-errc
			require.ErrorIs(t, err, tc.err)
			var pe *ProtocolError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.code, pe.Code)
			assert.Equal(t, tc.code, CloseStatus(err))
			// The failure sticks.
			_, _, again := server.ReadMessage(context.Background(), nil)
			assert.Equal(t, err, again)
			assert.ErrorIs(t, server.WriteMessage(context.Background(), MessageText, []byte("x")), ErrClosed)
		})
	}
}

// TestUTF8FailsFast checks that invalid UTF-8 is refused when the bad byte
// arrives, before the rest of its frame.
func TestUTF8FailsFast(t *testing.T) {
	addr, conns, _ := listenRaw(t, &UpgradeOptions{CloseTimeout: time.Second})
	rc := dialRaw(t, addr)
	server := <-conns
	go func() { _, _, _ = server.ReadMessage(context.Background(), nil) }()

	good := []byte("valid start ")
	wire := frameBytes(true, frame.OpText, true, append(append(good, 0xff), make([]byte, 1000)...))
	headerSize := frame.HeaderSize(wire[1])
	rc.send(wire[:headerSize+len(good)+1]) // the header, the good bytes and the bad one; the rest never comes
	assert.Equal(t, frame.CloseInvalidFramePayloadData, rc.readClose())
}

func TestMaskedFrameToClient(t *testing.T) {
	ln := newRawServer(t)
	client, _, err := Dial(context.Background(), "ws://"+ln.addr, &DialOptions{CloseTimeout: time.Second})
	require.NoError(t, err)
	defer client.CloseNow()
	peer := <-ln.conns
	peer.send(frameBytes(true, frame.OpText, true, []byte("masked")))
	_, _, err = client.ReadMessage(context.Background(), nil)
	require.ErrorIs(t, err, ErrMaskedFrame)
	assert.Equal(t, frame.CloseProtocolError, CloseStatus(err))
	h, p := peer.readMaskedFrame()
	assert.Equal(t, frame.OpClose, h.Opcode)
	assert.Equal(t, []byte{0x03, 0xea}, p[:2])
}

func TestClosePaths(t *testing.T) {
	ctx := context.Background()
	t.Run("client closes", func(t *testing.T) {
		checkGoroutines(t)
		server, client := pair(t, nil, nil)
		done := echoLoop(server)
		require.NoError(t, client.Close(frame.CloseGoingAway, "leaving"))
		var ce *CloseError
		require.ErrorAs(t, <-done, &ce)
		assert.Equal(t, frame.CloseGoingAway, ce.Code)
		assert.Equal(t, "leaving", ce.Reason)
		assert.ErrorIs(t, client.WriteMessage(ctx, MessageText, []byte("late")), ErrClosed)
		assert.ErrorIs(t, client.Close(frame.CloseNormalClosure, ""), ErrClosed)
	})
	t.Run("server closes with application code", func(t *testing.T) {
		checkGoroutines(t)
		server, client := pair(t, nil, nil)
		done := echoLoop(client)
		require.NoError(t, server.Close(4001, "room closed"))
		err := <-done
		var ce *CloseError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, frame.CloseCode(4001), ce.Code)
		assert.Equal(t, "room closed", ce.Reason)
		assert.ErrorIs(t, err, ErrClosed)
		_, _, err = client.ReadMessage(ctx, nil)
		assert.ErrorAs(t, err, &ce, "later reads report the same close")
	})
	t.Run("close while the peer reads", func(t *testing.T) {
		server, client := pair(t, nil, nil)
		serverDone := echoLoop(server)
		clientErr := make(chan error, 1)
		go func() {
			_, _, err := client.ReadMessage(ctx, nil)
			clientErr <- err
		}()
		require.Eventually(t, client.readLock.held, 5*time.Second, time.Millisecond, "the read has begun")
		require.NoError(t, client.Close(frame.CloseNormalClosure, ""))
		assert.Equal(t, frame.CloseNormalClosure, CloseStatus(<-clientErr))
		assert.Equal(t, frame.CloseNormalClosure, CloseStatus(<-serverDone))
	})
	t.Run("no status", func(t *testing.T) {
		addr, conns, _ := listenRaw(t, nil)
		rc := dialRaw(t, addr)
		server := <-conns
		done := echoLoop(server)
		rc.send(frameBytes(true, frame.OpClose, true, nil))
		h, p := rc.readFrame()
		assert.Equal(t, frame.OpClose, h.Opcode)
		assert.Empty(t, p, "an empty close is echoed empty")
		rc.expectEOF()
		assert.Equal(t, frame.CloseNoStatusReceived, CloseStatus(<-done))
	})
	t.Run("abnormal loss", func(t *testing.T) {
		checkGoroutines(t)
		addr, conns, _ := listenRaw(t, nil)
		rc := dialRaw(t, addr)
		server := <-conns
		done := echoLoop(server)
		rc.send(frameBytes(false, frame.OpBinary, true, []byte("half a message")))
		rc.nc.Close()
		err := <-done
		assert.Equal(t, frame.CloseAbnormalClosure, CloseStatus(err))
		assert.ErrorIs(t, err, ErrClosed)
	})
	t.Run("stream ends within a frame", func(t *testing.T) {
		b := frameBytes(true, frame.OpBinary, true, []byte("a whole frame"))
		for _, n := range []int{1, 4, len(b) - 1} { // within the header, the mask key, the payload
			addr, conns, _ := listenRaw(t, nil)
			rc := dialRaw(t, addr)
			done := echoLoop(<-conns)
			rc.send(b[:n])
			require.NoError(t, rc.nc.(*net.TCPConn).CloseWrite())
			err := <-done
			assert.Equal(t, frame.CloseAbnormalClosure, CloseStatus(err))
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "%d bytes of %d", n, len(b))
		}
	})
	t.Run("peer never answers the close", func(t *testing.T) {
		addr, conns, _ := listenRaw(t, &UpgradeOptions{CloseTimeout: 100 * time.Millisecond})
		rc := dialRaw(t, addr)
		server := <-conns
		start := time.Now()
		err := server.Close(frame.CloseNormalClosure, "")
		require.Error(t, err)
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.Equal(t, frame.CloseNormalClosure, rc.readClose())
		rc.expectEOF()
	})
	t.Run("invalid close arguments send nothing", func(t *testing.T) {
		server, _ := pair(t, nil, nil)
		assert.ErrorIs(t, server.Close(frame.CloseAbnormalClosure, ""), frame.ErrInvalidCloseCode)
		assert.ErrorIs(t, server.Close(frame.CloseNormalClosure, strings.Repeat("x", 124)), frame.ErrCloseReasonTooLong)
		require.NoError(t, server.WriteMessage(ctx, MessageText, []byte("still open")))
	})
}

func TestContextCancellation(t *testing.T) {
	checkGoroutines(t)
	server, client := pair(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := server.ReadMessage(ctx, nil)
		errc <- err
	}()
	require.Eventually(t, server.readLock.held, 5*time.Second, time.Millisecond, "the read has begun")
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	// The connection is gone for both ends.
	_, _, err = client.ReadMessage(context.Background(), nil)
	assert.Equal(t, frame.CloseAbnormalClosure, CloseStatus(err))

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	_, _, err = server.ReadMessage(done, nil)
	assert.ErrorIs(t, err, context.Canceled, "the first reason the connection ended stays")
}

func TestReadDeadline(t *testing.T) {
	server, _ := pair(t, nil, nil)
	require.NoError(t, server.NetConn().SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, _, err := server.ReadMessage(context.Background(), nil)
	require.Error(t, err)
	var ne interface{ Timeout() bool }
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
}

func TestConcurrentReadIsRefused(t *testing.T) {
	server, client := pair(t, nil, nil)
	first := readInBackground(server)
	require.Eventually(t, server.readLock.held, time.Second, time.Millisecond)
	_, _, err := server.ReadMessage(context.Background(), nil)
	assert.ErrorIs(t, err, ErrConcurrentRead)
	require.NoError(t, client.WriteMessage(context.Background(), MessageText, []byte("x")))
	require.NoError(t, <-first)
}

func TestConcurrentWriters(t *testing.T) {
	server, client := pair(t, nil, nil)
	ctx := context.Background()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				msg := bytes.Repeat([]byte{byte('a' + w)}, 100+i*97)
				if i%2 == 0 {
					assert.NoError(t, client.WriteMessage(ctx, MessageText, msg))
					continue
				}
				mw, err := client.NextWriter(ctx, MessageText)
				if !assert.NoError(t, err) {
					return
				}
				for p := msg; len(p) > 0; p = p[min(len(p), 1000):] {
					_, _ = mw.Write(p[:min(len(p), 1000)])
					_ = mw.Flush()
					_, err := client.Ping(ctx, []byte("between frames"))
					assert.NoError(t, err)
				}
				assert.NoError(t, mw.Close())
			}
		}()
	}
	var buf []byte
	for range writers * each {
		_, msg, err := server.ReadMessage(ctx, buf)
		require.NoError(t, err)
		require.NotEmpty(t, msg)
		require.Equal(t, len(msg), bytes.Count(msg, msg[:1]), "messages interleaved")
		buf = msg
	}
	wg.Wait()
}

func TestMessageWriterMisuse(t *testing.T) {
	_, client := pair(t, nil, nil)
	ctx := context.Background()
	_, err := client.NextWriter(ctx, MessageType(3))
	assert.ErrorIs(t, err, ErrBadMessageType)
	assert.ErrorIs(t, client.WriteMessage(ctx, MessageType(9), nil), ErrBadMessageType)
	w, err := client.NextWriter(ctx, MessageBinary)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	_, err = w.Write([]byte("x"))
	assert.ErrorIs(t, err, ErrWriterClosed)
	assert.ErrorIs(t, w.Close(), ErrWriterClosed)

	// A second message waits for the first; its context bounds the wait,
	// and its end closes the connection, as it would during the write.
	w, err = client.NextWriter(ctx, MessageBinary)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, client.WriteMessage(short, MessageText, []byte("x")), context.DeadlineExceeded)
	assert.ErrorIs(t, w.Close(), context.DeadlineExceeded, "the message cannot end on a closed connection")
}

func TestSubprotocolAndHandshakeErrors(t *testing.T) {
	server, client := pair(t, &UpgradeOptions{Subprotocols: []string{"chat.v2", "chat.v1"}},
		&DialOptions{Subprotocols: []string{"chat.v1", "chat.v2"}})
	assert.Equal(t, "chat.v2", server.Subprotocol())
	assert.Equal(t, "chat.v2", client.Subprotocol())
	assert.NotNil(t, server.LocalAddr())
	assert.Equal(t, server.LocalAddr().String(), client.RemoteAddr().String())
}

func TestErrorsMatch(t *testing.T) {
	err := error(&ProtocolError{Code: frame.CloseMessageTooBig, Err: ErrMessageTooBig})
	assert.True(t, errors.Is(err, ErrMessageTooBig))
	assert.Contains(t, err.Error(), "1009")
	ce := &CloseError{Code: 4000, Reason: "bye"}
	assert.True(t, errors.Is(ce, ErrClosed))
	assert.Equal(t, "wsproto: closed with 4000 (4000): bye", ce.Error())
	assert.Equal(t, frame.CloseCode(0), CloseStatus(io.EOF))
}
