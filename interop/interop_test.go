//go:build !js

package interop

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// row is one line of the matrix, run for every peer in both directions.
type row struct {
	name    string
	cfg     rowConfig
	timeout time.Duration // 0: defaultRowTimeout
	// freshPeer gives the row a peer process of its own (to kill it).
	freshPeer bool
	run       func(t *testing.T, ctx context.Context, s *session)
}

const defaultRowTimeout = 15 * time.Second

// TestInterop runs every row against every peer, both ways; subtests are
// named peer/direction/row.
func TestInterop(t *testing.T) {
	rows := matrix()
	for _, spec := range peerSpecs {
		t.Run(spec.name, func(t *testing.T) {
			t.Parallel()
			argv := lookupPeer(t, spec)
			for _, dir := range directions {
				t.Run(dir.name, func(t *testing.T) {
					t.Parallel()
					shared := startPeer(t, spec.name, argv)
					for _, r := range rows {
						t.Run(r.name, func(t *testing.T) {
							timeout := r.timeout
							if timeout == 0 {
								timeout = defaultRowTimeout
							}
							ctx, cancel := context.WithTimeout(context.Background(), timeout)
							defer cancel()
							p := shared
							if r.freshPeer {
								p = startPeer(t, spec.name, argv)
							}
							r.run(t, ctx, open(t, ctx, spec, p, dir, r.cfg))
						})
					}
				})
			}
		})
	}
}

func matrix() []row {
	var rows []row
	for _, typ := range []wsproto.MessageType{wsproto.MessageText, wsproto.MessageBinary} {
		for _, size := range []int{0, 125, 64 << 10, 16 << 20} {
			r := row{name: fmt.Sprintf("%s/%s", typeName(typ), sizeName(size)), run: echoRow(typ, size)}
			if size >= 1<<20 {
				r.timeout = 3 * time.Minute // under -race it takes tens of seconds
			}
			rows = append(rows, r)
		}
	}
	rows = append(rows,
		row{name: "fragmented/go-to-peer-text", run: fragmentsToPeer(wsproto.MessageText,
			[]byte("h\xc3"), []byte("\xa9llo w"), []byte("\xc3\xb6rld \xf0\x9f"), []byte("\x99\x82 \xe2\x82"), []byte("\xac!"))},
		row{name: "fragmented/go-to-peer-binary", run: fragmentsToPeer(wsproto.MessageBinary,
			binaryPayload(70<<10, 1), binaryPayload(70<<10, 2), binaryPayload(70<<10, 3))},
		row{name: "fragmented/peer-to-go-text", run: fragmentsFromPeer(wsproto.MessageText,
			[]byte("Grüße, "), []byte("κόσμε "), []byte("🙂!"))},
		row{name: "fragmented/peer-to-go-binary", run: fragmentsFromPeer(wsproto.MessageBinary,
			binaryPayload(3000, 4), binaryPayload(1, 5), binaryPayload(70<<10, 6))},
		row{name: "ping/go-to-peer", run: pingToPeer},
		row{name: "ping/peer-to-go", run: pingFromPeer},
		row{name: "subprotocol/agreed", run: subprotocolRow("chat.v1"), cfg: rowConfig{
			serverProtocols: []string{"chat.v1", "chat.v2"},
			clientProtocols: []string{"x-unknown", "chat.v2", "chat.v1"},
		}},
		row{name: "subprotocol/none-offered", run: subprotocolRow(""), cfg: rowConfig{
			serverProtocols: []string{"chat.v1"},
		}},
	)
	for _, d := range []struct {
		name string
		cfg  deflateConfig
	}{
		{"context-takeover", deflateConfig{}},
		{"server-no-context-takeover", deflateConfig{ServerNoContextTakeover: true}},
		{"client-no-context-takeover", deflateConfig{ClientNoContextTakeover: true}},
		{"no-context-takeover", deflateConfig{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"max-window-bits", deflateConfig{ServerMaxWindowBits: 10, ClientMaxWindowBits: 9}},
	} {
		rows = append(rows, row{name: "deflate/" + d.name, cfg: rowConfig{deflate: &d.cfg}, run: deflateRow(d.cfg)})
	}
	for _, cl := range []struct {
		code   frame.CloseCode
		reason string
	}{
		{frame.CloseNormalClosure, "done"},
		{frame.CloseGoingAway, "going away"},
		{4321, "bye now"},
	} {
		rows = append(rows,
			row{name: fmt.Sprintf("close/%d-by-go", cl.code), run: closeByGo(cl.code, cl.reason)},
			row{name: fmt.Sprintf("close/%d-by-peer", cl.code), run: closeByPeer(cl.code, cl.reason)},
		)
	}
	rows = append(rows,
		row{name: "abnormal/go-drops-socket", run: goDrops},
		row{name: "abnormal/peer-aborts-socket", run: peerAborts},
		row{name: "abnormal/peer-process-killed", run: peerKilled, freshPeer: true},
		row{name: "invalid-utf8/peer-to-go", run: invalidUTF8([]byte("ok \xff\xfe"))},
		row{name: "invalid-utf8/peer-to-go-truncated", run: invalidUTF8([]byte("abc\xe2\x82"))},
		row{name: "too-big/peer-to-go", run: tooBigFromPeer},
		row{name: "too-big/go-to-peer", run: tooBigToPeer, cfg: rowConfig{peerMaxSize: 1024}},
		row{name: "valid/utf8-split-every-byte", run: splitEveryByte},
		row{name: "valid/ping-between-fragments", run: pingBetweenFragments},
		row{name: "valid/close-reason-123B", run: closeByGo(4000, strings.Repeat("é", 61)+"x")},
	)
	return rows
}

func typeName(typ wsproto.MessageType) string {
	if typ == wsproto.MessageText {
		return "text"
	}
	return "binary"
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

var (
	payloadMu    sync.Mutex
	payloadCache = map[[2]int][]byte{}
)

// payload returns a deterministic message of exactly n bytes: random bytes,
// or valid UTF-8 mixing characters of one to four bytes. Callers must not
// modify it: the 16 MiB ones are shared.
func payload(typ wsproto.MessageType, n int) []byte {
	payloadMu.Lock()
	defer payloadMu.Unlock()
	key := [2]int{int(typ), n}
	if b, ok := payloadCache[key]; ok {
		return b
	}
	var b []byte
	if typ == wsproto.MessageText {
		b = textPayload(n, uint64(n))
	} else {
		b = binaryPayload(n, uint64(n))
	}
	payloadCache[key] = b
	return b
}

func binaryPayload(n int, seed uint64) []byte {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	s[2] = byte(seed >> 16)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func textPayload(n int, seed uint64) []byte {
	pieces := []string{"a", "b", "q", "z", "0", " ", "\n", "é", "ß", "ж", "€", "한", "\uffff", "🙂", "𝄞", "\U0010ffff"}
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, 0, n)
	for len(b) < n {
		p := pieces[r.IntN(len(pieces))]
		if len(b)+len(p) > n {
			p = "."
		}
		b = append(b, p...)
	}
	return b
}

// requireSame compares two messages without printing megabytes.
func requireSame(t *testing.T, want, got []byte, what string) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	t.Fatalf("%s: got %d bytes, want %d; first difference at byte %d", what, len(got), len(want), i)
}

// echo sends a message, which the peer echoes, and checks what comes back.
func echo(t *testing.T, ctx context.Context, s *session, typ wsproto.MessageType, msg []byte) {
	t.Helper()
	require.NoError(t, s.c.WriteMessage(ctx, typ, msg))
	r := s.recv(ctx)
	require.NoError(t, r.err)
	require.Equal(t, typ, r.typ)
	requireSame(t, msg, r.data, "echo")
}

func echoRow(typ wsproto.MessageType, n int) func(*testing.T, context.Context, *session) {
	return func(t *testing.T, ctx context.Context, s *session) {
		msg := payload(typ, n)
		echo(t, ctx, s, typ, msg)
		ev := s.peer.await(ctx, "message")
		assert.Equal(t, typeName(typ), ev.Type, "type the peer received")
		assert.Equal(t, n, ev.Len, "length the peer received")
	}
}

// fragmentsToPeer streams a message with NextWriter, one frame per part.
func fragmentsToPeer(typ wsproto.MessageType, parts ...[]byte) func(*testing.T, context.Context, *session) {
	return func(t *testing.T, ctx context.Context, s *session) {
		w, err := s.c.NextWriter(ctx, typ)
		require.NoError(t, err)
		for _, p := range parts {
			_, err := w.Write(p)
			require.NoError(t, err)
			require.NoError(t, w.Flush())
		}
		require.NoError(t, w.Close())
		whole := bytes.Join(parts, nil)
		r := s.recv(ctx)
		require.NoError(t, r.err)
		require.Equal(t, typ, r.typ)
		requireSame(t, whole, r.data, "echo of the fragmented message")
		ev := s.peer.await(ctx, "message")
		assert.Equal(t, len(whole), ev.Len, "length the peer received")

		_, out := s.wire()
		ms := wireMessages(out)
		require.Len(t, ms, 1)
		assert.Equal(t, frame.Opcode(typ), ms[0].op)
		assert.GreaterOrEqual(t, ms[0].frames, len(parts), "frames we sent")
	}
}

// fragmentsFromPeer has the peer send one message in fragments.
func fragmentsFromPeer(typ wsproto.MessageType, parts ...[]byte) func(*testing.T, context.Context, *session) {
	return func(t *testing.T, ctx context.Context, s *session) {
		s.peer.do(command{Cmd: "sendfrag", Type: typeName(typ), Parts: parts})
		r := s.recv(ctx)
		require.NoError(t, r.err)
		require.Equal(t, typ, r.typ)
		requireSame(t, bytes.Join(parts, nil), r.data, "fragmented message")

		in, _ := s.wire()
		ms := wireMessages(in)
		require.NotEmpty(t, ms)
		assert.Equal(t, frame.Opcode(typ), ms[0].op)
		assert.GreaterOrEqual(t, ms[0].frames, len(parts), "frames the peer sent")
		t.Logf("%s sent the message in %d frames", s.spec.name, ms[0].frames)
	}
}

func pingToPeer(t *testing.T, ctx context.Context, s *session) {
	pongs := make(chan []byte, 4)
	s.c.SetPongHandler(func(p []byte) { pongs <- bytes.Clone(p) })
	s.startReader()
	_, err := s.c.Ping(ctx, []byte("go-ping"))
	require.NoError(t, err)
	select {
	case p := <-pongs:
		assert.Equal(t, "go-ping", string(p))
	case <-ctx.Done():
		t.Fatalf("no pong from %s: %v", s.spec.name, ctx.Err())
	}
	if s.spec.reportsPing {
		assert.Equal(t, "go-ping", string(s.peer.await(ctx, "ping").B64))
	}
}

func pingFromPeer(t *testing.T, ctx context.Context, s *session) {
	pings := make(chan []byte, 4)
	s.c.SetPingHandler(func(p []byte) { pings <- bytes.Clone(p) })
	s.startReader()
	s.peer.do(command{Cmd: "ping", B64: []byte("peer-ping")})
	select {
	case p := <-pings:
		assert.Equal(t, "peer-ping", string(p))
	case <-ctx.Done():
		t.Fatalf("no ping from %s: %v", s.spec.name, ctx.Err())
	}
	assert.Equal(t, "peer-ping", string(s.peer.await(ctx, "pong").B64), "the pong the peer got")
}

func subprotocolRow(want string) func(*testing.T, context.Context, *session) {
	return func(t *testing.T, ctx context.Context, s *session) {
		assert.Equal(t, want, s.c.Subprotocol(), "ours")
		assert.Equal(t, want, s.opened.Protocol, "the peer's")
		assert.Equal(t, want, s.response().Get("Sec-WebSocket-Protocol"), "in the response")
		echo(t, ctx, s, wsproto.MessageText, []byte("after the handshake"))
	}
}

// deflateText is compressible text: JSON records with random fields.
func deflateText(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 11))
	var b []byte
	for len(b) < n {
		b = fmt.Appendf(b, `{"id":%d,"user":"u-%x","score":%.3f,"tags":["alpha","beta"]},`, r.IntN(1e6), r.Uint32(), r.Float64())
	}
	return b[:n]
}

// deflateRow checks the negotiated parameters, then round-trips messages
// (two identical ones to see context takeover at work, one with repeats
// further apart than a small window, one under the threshold, and one
// streamed in compressed fragments) and checks RSV1 on the wire.
func deflateRow(d deflateConfig) func(*testing.T, context.Context, *session) {
	return func(t *testing.T, ctx context.Context, s *session) {
		exts, err := handshake.ParseExtensions([]byte(s.response().Get("Sec-WebSocket-Extensions")))
		require.NoError(t, err)
		require.Len(t, exts, 1, "agreed extensions")
		require.Equal(t, "permessage-deflate", exts[0].Name)
		params := map[string]string{}
		for _, p := range exts[0].Params {
			params[p.Name] = p.Value
		}
		_, ok := params["server_no_context_takeover"]
		assert.Equal(t, d.ServerNoContextTakeover, ok, "server_no_context_takeover in %v", exts[0])
		_, ok = params["client_no_context_takeover"]
		assert.Equal(t, d.ClientNoContextTakeover, ok, "client_no_context_takeover in %v", exts[0])
		if d.ServerMaxWindowBits != 0 {
			assert.Equal(t, fmt.Sprint(d.ServerMaxWindowBits), params["server_max_window_bits"], "in %v", exts[0])
		}
		if d.ClientMaxWindowBits != 0 {
			assert.Equal(t, fmt.Sprint(d.ClientMaxWindowBits), params["client_max_window_bits"], "in %v", exts[0])
		}
		assert.Contains(t, s.opened.Extensions, "permessage-deflate", "what the peer agreed")
		t.Logf("agreed: %v", exts[0])

		same := deflateText(2048, 1)
		block := binaryPayload(4096, 9)
		repeats := bytes.Repeat(block, 16)
		echo(t, ctx, s, wsproto.MessageText, same)
		echo(t, ctx, s, wsproto.MessageText, same)
		echo(t, ctx, s, wsproto.MessageBinary, repeats)
		echo(t, ctx, s, wsproto.MessageText, []byte("tiny"))
		parts := [][]byte{deflateText(20<<10, 2), deflateText(20<<10, 3), deflateText(20<<10, 4)}
		w, err := s.c.NextWriter(ctx, wsproto.MessageText)
		require.NoError(t, err)
		for _, p := range parts {
			_, err := w.Write(p)
			require.NoError(t, err)
			require.NoError(t, w.Flush())
		}
		require.NoError(t, w.Close())
		r := s.recv(ctx)
		require.NoError(t, r.err)
		requireSame(t, bytes.Join(parts, nil), r.data, "echo of the streamed message")

		in, out := s.wire()
		ours, theirs := wireMessages(out), wireMessages(in)
		require.Len(t, ours, 5, "messages we sent")
		require.Len(t, theirs, 5, "messages the peer sent")
		for _, i := range []int{0, 1, 2, 4} {
			assert.True(t, ours[i].rsv1, "our message %d compressed", i)
			assert.True(t, theirs[i].rsv1, "the peer's message %d compressed", i)
		}
		assert.False(t, ours[3].rsv1, "our message under the threshold sent as it is")
		assert.GreaterOrEqual(t, ours[4].frames, len(parts), "frames of our streamed message")

		if d.ServerMaxWindowBits != 0 || d.ClientMaxWindowBits != 0 {
			return // the repeated message is longer than the window
		}
		// Without context takeover a compressor starts afresh and the
		// second copy costs what the first did; with it, the second copy
		// is a back reference.
		ourNoTakeover, theirNoTakeover := d.ClientNoContextTakeover, d.ServerNoContextTakeover
		if s.goServer {
			ourNoTakeover, theirNoTakeover = theirNoTakeover, ourNoTakeover
		}
		checkTakeover(t, "ours", ours, ourNoTakeover)
		checkTakeover(t, "the peer's", theirs, theirNoTakeover)
	}
}

func checkTakeover(t *testing.T, who string, ms []wireMessage, noTakeover bool) {
	t.Helper()
	first, second := ms[0].payload, ms[1].payload
	if noTakeover {
		assert.GreaterOrEqual(t, second*10, first*9, "%s: without context takeover the second copy (%d B) should cost what the first did (%d B)", who, second, first)
	} else {
		assert.Less(t, second*2, first, "%s: with context takeover the second copy (%d B) should be far smaller than the first (%d B)", who, second, first)
	}
	t.Logf("%s: copies of one message compressed to %d and %d bytes", who, first, second)
}

func closeByGo(code frame.CloseCode, reason string) func(*testing.T, context.Context, *session) {
	return func(t *testing.T, ctx context.Context, s *session) {
		require.NoError(t, s.c.Close(code, reason), "the closing handshake")
		ev := s.peer.await(ctx, "close")
		assert.Equal(t, int(code), ev.Code, "the code the peer got")
		assert.Equal(t, reason, ev.Reason, "the reason the peer got")
		assert.True(t, ev.Clean, "the peer saw a clean close")
	}
}

func closeByPeer(code frame.CloseCode, reason string) func(*testing.T, context.Context, *session) {
	return func(t *testing.T, ctx context.Context, s *session) {
		s.startReader()
		s.peer.do(command{Cmd: "close", Code: int(code), Reason: reason})
		err := s.recvErr(ctx)
		var ce *wsproto.CloseError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, code, ce.Code)
		assert.Equal(t, reason, ce.Reason)
		ev := s.peer.await(ctx, "close")
		assert.Equal(t, int(code), ev.Code, "our answer echoes the code")
		assert.True(t, ev.Clean, "the peer saw a clean close")
	}
}

func goDrops(t *testing.T, ctx context.Context, s *session) {
	require.NoError(t, s.c.CloseNow())
	ev := s.peer.await(ctx, "close")
	assert.Equal(t, int(frame.CloseAbnormalClosure), ev.Code)
	assert.False(t, ev.Clean)
}

func requireAbnormal(t *testing.T, err error) {
	t.Helper()
	var ce *wsproto.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, frame.CloseAbnormalClosure, ce.Code)
	assert.Equal(t, frame.CloseAbnormalClosure, wsproto.CloseStatus(err))
}

func peerAborts(t *testing.T, ctx context.Context, s *session) {
	s.startReader()
	s.peer.do(command{Cmd: "abort"})
	requireAbnormal(t, s.recvErr(ctx))
}

func peerKilled(t *testing.T, ctx context.Context, s *session) {
	s.startReader()
	s.proc.kill()
	requireAbnormal(t, s.recvErr(ctx))
}

func invalidUTF8(msg []byte) func(*testing.T, context.Context, *session) {
	return func(t *testing.T, ctx context.Context, s *session) {
		s.peer.do(command{Cmd: "send", Type: "text", B64: msg})
		err := s.recvErr(ctx)
		var pe *wsproto.ProtocolError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, frame.CloseInvalidFramePayloadData, pe.Code)
		assert.ErrorIs(t, err, wsproto.ErrInvalidUTF8)
		assert.Equal(t, int(frame.CloseInvalidFramePayloadData), s.peer.await(ctx, "close").Code, "the code the peer got")
	}
}

func tooBigFromPeer(t *testing.T, ctx context.Context, s *session) {
	s.c.SetReadLimit(1024)
	s.startReader()
	s.peer.do(command{Cmd: "send", Type: "binary", B64: binaryPayload(2048, 8)})
	err := s.recvErr(ctx)
	var pe *wsproto.ProtocolError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, frame.CloseMessageTooBig, pe.Code)
	assert.ErrorIs(t, err, wsproto.ErrMessageTooBig)
	assert.Equal(t, int(frame.CloseMessageTooBig), s.peer.await(ctx, "close").Code, "the code the peer got")
}

func tooBigToPeer(t *testing.T, ctx context.Context, s *session) {
	s.startReader()
	require.NoError(t, s.c.WriteMessage(ctx, wsproto.MessageBinary, binaryPayload(2048, 8)))
	err := s.recvErr(ctx)
	var ce *wsproto.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, frame.CloseMessageTooBig, ce.Code, "the code the peer sent")
	ev := s.peer.await(ctx, "close")
	assert.Equal(t, int(frame.CloseMessageTooBig), ev.Sent, "the code the peer says it sent")
	// A peer that fails the connection may close TCP without waiting for
	// our answer (RFC 6455 §7.1.7), and then never sees it.
	assert.Contains(t, []int{int(frame.CloseMessageTooBig), int(frame.CloseAbnormalClosure)}, ev.Code, "what the peer got back")
}

// splitEveryByte sends text with a character of each UTF-8 length at each
// boundary of the ranges, one byte per frame, so that every character is
// split across frames: a validating peer must accept it.
func splitEveryByte(t *testing.T, ctx context.Context, s *session) {
	msg := []byte("\x00\u007f\u0080\u07ff\u0800\ud7ff\ue000\ufffd\uffff\U00010000\U0010ffff")
	w, err := s.c.NextWriter(ctx, wsproto.MessageText)
	require.NoError(t, err)
	for i := range msg {
		_, err := w.Write(msg[i : i+1])
		require.NoError(t, err)
		require.NoError(t, w.Flush())
	}
	require.NoError(t, w.Close())
	r := s.recv(ctx)
	require.NoError(t, r.err)
	requireSame(t, msg, r.data, "echo")
	_, out := s.wire()
	ms := wireMessages(out)
	require.Len(t, ms, 1)
	assert.GreaterOrEqual(t, ms[0].frames, len(msg), "frames we sent")
}

// pingBetweenFragments sends a ping between two frames of a message.
func pingBetweenFragments(t *testing.T, ctx context.Context, s *session) {
	pongs := make(chan []byte, 4)
	s.c.SetPongHandler(func(p []byte) { pongs <- bytes.Clone(p) })
	s.startReader()
	w, err := s.c.NextWriter(ctx, wsproto.MessageText)
	require.NoError(t, err)
	_, err = w.Write([]byte("first half, "))
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	_, err = s.c.Ping(ctx, []byte("between"))
	require.NoError(t, err)
	_, err = w.Write([]byte("second half"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	r := s.recv(ctx)
	require.NoError(t, r.err)
	assert.Equal(t, "first half, second half", string(r.data))
	select {
	case p := <-pongs:
		assert.Equal(t, "between", string(p))
	case <-ctx.Done():
		t.Fatalf("no pong from %s: %v", s.spec.name, ctx.Err())
	}
	_, out := s.wire()
	var ops []frame.Opcode
	for _, h := range wireFrames(out) {
		ops = append(ops, h.Opcode)
	}
	assert.Equal(t, []frame.Opcode{frame.OpText, frame.OpPing, frame.OpContinuation}, ops, "frames we sent")
}
