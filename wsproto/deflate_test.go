//go:build !js

package wsproto

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeflateAccept is the server's side of the negotiation table: one row
// per offer shape, with the response it must give (RFC 7692 §5, §7.1).
func TestDeflateAccept(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     CompressionOptions
		offer    string
		response string // "" when every offer is declined
		want     negotiated
	}{
		{"bare offer", CompressionOptions{}, "permessage-deflate", "permessage-deflate", negotiated{serverBits: 15, clientBits: 15}},
		{"browser offer", CompressionOptions{}, "permessage-deflate; client_max_window_bits", "permessage-deflate", negotiated{serverBits: 15, clientBits: 15}},
		{"server no takeover asked", CompressionOptions{}, "permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover", negotiated{serverNoTakeover: true, serverBits: 15, clientBits: 15}},
		{"client no takeover offered", CompressionOptions{}, "permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover", negotiated{clientNoTakeover: true, serverBits: 15, clientBits: 15}},
		{"server imposes no takeover", CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, "permessage-deflate", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", negotiated{serverNoTakeover: true, clientNoTakeover: true, serverBits: 15, clientBits: 15}},
		{"server window asked", CompressionOptions{}, "permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=10", negotiated{serverBits: 10, clientBits: 15}},
		{"server window smaller than asked", CompressionOptions{ServerMaxWindowBits: 9}, "permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=9", negotiated{serverBits: 9, clientBits: 15}},
		{"server limits its own window", CompressionOptions{ServerMaxWindowBits: 12}, "permessage-deflate", "permessage-deflate; server_max_window_bits=12", negotiated{serverBits: 12, clientBits: 15}},
		{"client window limited", CompressionOptions{ClientMaxWindowBits: 11}, "permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=11", negotiated{serverBits: 15, clientBits: 11}},
		{"client window not limitable", CompressionOptions{ClientMaxWindowBits: 11}, "permessage-deflate", "permessage-deflate", negotiated{serverBits: 15, clientBits: 15}},
		{"client window offered with value", CompressionOptions{}, "permessage-deflate; client_max_window_bits=9", "permessage-deflate; client_max_window_bits=9", negotiated{serverBits: 15, clientBits: 9}},
		{"first acceptable offer wins", CompressionOptions{}, "permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=8, permessage-deflate", "permessage-deflate; server_max_window_bits=8", negotiated{serverBits: 8, clientBits: 15}},
		{"other extensions skipped", CompressionOptions{}, "x-webkit-deflate-frame, permessage-deflate", "permessage-deflate", negotiated{serverBits: 15, clientBits: 15}},
		{"unknown parameter declined", CompressionOptions{}, "permessage-deflate; mux", "", negotiated{}},
		{"repeated parameter declined", CompressionOptions{}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", "", negotiated{}},
		{"window bits out of range declined", CompressionOptions{}, "permessage-deflate; server_max_window_bits=16", "", negotiated{}},
		{"window bits with leading zero declined", CompressionOptions{}, "permessage-deflate; server_max_window_bits=09", "", negotiated{}},
		{"server window without value declined", CompressionOptions{}, "permessage-deflate; server_max_window_bits", "", negotiated{}},
		{"takeover with value declined", CompressionOptions{}, "permessage-deflate; client_no_context_takeover=1", "", negotiated{}},
		{"quoted value accepted", CompressionOptions{}, `permessage-deflate; server_max_window_bits="10"`, "permessage-deflate; server_max_window_bits=10", negotiated{serverBits: 10, clientBits: 15}},
		{"only declined offers", CompressionOptions{}, "permessage-deflate; a, permessage-deflate; b", "", negotiated{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offers, err := handshake.ParseExtensions([]byte(tc.offer))
			require.NoError(t, err)
			n, resp, ok := tc.opts.accept(offers)
			if tc.response == "" {
				assert.False(t, ok, "declined")
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.response, resp.String())
			assert.Equal(t, tc.want, n)
		})
	}
}

// TestDeflateCheck is the client's side: what it concludes from the server's
// answer to its offer (RFC 7692 §7.1.1–7.1.2).
func TestDeflateCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     CompressionOptions
		response string
		agreed   bool
		err      bool
		want     negotiated
	}{
		{"declined", CompressionOptions{}, "", false, false, negotiated{}},
		{"plain", CompressionOptions{}, "permessage-deflate", true, false, negotiated{serverBits: 15, clientBits: 15}},
		{"server no takeover granted", CompressionOptions{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover", true, false, negotiated{serverNoTakeover: true, serverBits: 15, clientBits: 15}},
		{"server no takeover ignored", CompressionOptions{ServerNoContextTakeover: true}, "permessage-deflate", false, true, negotiated{}},
		{"client no takeover imposed", CompressionOptions{}, "permessage-deflate; client_no_context_takeover", true, false, negotiated{clientNoTakeover: true, serverBits: 15, clientBits: 15}},
		{"client no takeover offered", CompressionOptions{ClientNoContextTakeover: true}, "permessage-deflate", true, false, negotiated{clientNoTakeover: true, serverBits: 15, clientBits: 15}},
		{"server window granted", CompressionOptions{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=9", true, false, negotiated{serverBits: 9, clientBits: 15}},
		{"server window too big", CompressionOptions{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=11", false, true, negotiated{}},
		{"server window missing", CompressionOptions{ServerMaxWindowBits: 10}, "permessage-deflate", false, true, negotiated{}},
		{"server window declared", CompressionOptions{}, "permessage-deflate; server_max_window_bits=12", true, false, negotiated{serverBits: 12, clientBits: 15}},
		{"client window imposed", CompressionOptions{}, "permessage-deflate; client_max_window_bits=8", true, false, negotiated{serverBits: 15, clientBits: 8}},
		{"client window without value", CompressionOptions{}, "permessage-deflate; client_max_window_bits", false, true, negotiated{}},
		{"client window above offer", CompressionOptions{ClientMaxWindowBits: 9}, "permessage-deflate; client_max_window_bits=10", false, true, negotiated{}},
		{"client window kept to offer", CompressionOptions{ClientMaxWindowBits: 9}, "permessage-deflate", true, false, negotiated{serverBits: 15, clientBits: 9}},
		{"unknown parameter", CompressionOptions{}, "permessage-deflate; x=1", false, true, negotiated{}},
		{"two answers", CompressionOptions{}, "permessage-deflate, permessage-deflate", false, true, negotiated{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var exts []handshake.Extension
			if tc.response != "" {
				var err error
				exts, err = handshake.ParseExtensions([]byte(tc.response))
				require.NoError(t, err)
			}
			n, agreed, err := tc.opts.check(exts)
			if tc.err {
				require.ErrorIs(t, err, ErrExtensionResponse)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.agreed, agreed)
			assert.Equal(t, tc.want, n)
		})
	}
}

func TestDeflateOffer(t *testing.T) {
	assert.Equal(t, "permessage-deflate; client_max_window_bits", (&CompressionOptions{}).offer().String())
	assert.Equal(t, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
		(&CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 9}).offer().String())
}

// The examples of RFC 7692 §7.2.3, as frames a server sends (unmasked).
var rfc7692Examples = []struct {
	name     string
	takeover bool     // needs the previous example's window
	frames   [][]byte // one message
}{
	{"Hello", false, [][]byte{{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}},
	{"Hello in two fragments", false, [][]byte{{0x41, 0x03, 0xf2, 0x48, 0xcd}, {0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00}}},
	{"Hello sharing the window", true, [][]byte{{0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00}}},
	{"Hello in a stored block", false, [][]byte{{0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}}},
	{"Hello with BFINAL set", false, [][]byte{{0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}}},
	{"Hello in two blocks", false, [][]byte{{0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}}},
}

// TestRFC7692ExamplesRead has our client read the RFC's frames: every one
// inflates to "Hello", in order, the third one using the window of the
// second, and the empty message (§7.2.3.6) to nothing.
func TestRFC7692ExamplesRead(t *testing.T) {
	var wire []byte
	for _, ex := range rfc7692Examples {
		for _, f := range ex.frames {
			wire = append(wire, f...)
		}
	}
	wire = append(wire, 0xc1, 0x01, 0x00) // §7.2.3.6: an empty message
	srv := newRawServerWith(t, "Sec-WebSocket-Extensions: permessage-deflate\r\n", wire)
	c, _, err := Dial(context.Background(), "ws://"+srv.addr, &DialOptions{Compression: &CompressionOptions{}})
	require.NoError(t, err)
	defer c.CloseNow()
	require.NotNil(t, c.compress)
	for _, ex := range rfc7692Examples {
		typ, msg, err := c.ReadMessage(context.Background(), nil)
		require.NoError(t, err, ex.name)
		assert.Equal(t, MessageText, typ)
		assert.Equal(t, "Hello", string(msg), ex.name)
	}
	_, msg, err := c.ReadMessage(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, msg)
}

// inflateMessage inflates one compressed message given as frames (payloads
// unmasked), the way §7.2.2 says, with a window carried in dict.
func inflateMessage(t *testing.T, payload []byte, dict []byte) []byte {
	t.Helper()
	fr := flate.NewReaderDict(io.MultiReader(bytes.NewReader(payload), strings.NewReader(deflateTailAndFinalEnd)), dict)
	out, err := io.ReadAll(fr)
	require.NoError(t, err)
	return out
}

// TestRFC7692Write has our server compress "Hello" twice, with and without
// context takeover, and a raw client check the frames: RSV1 on the first
// frame, a payload that inflates back as §7.2.2 says, and a second message
// shorter than the first only under takeover.
func TestRFC7692Write(t *testing.T) {
	for _, noTakeover := range []bool{false, true} {
		t.Run(fmt.Sprintf("server_no_context_takeover=%v", noTakeover), func(t *testing.T) {
			addr, conns, _ := listenRaw(t, &UpgradeOptions{Compression: &CompressionOptions{Threshold: -1}})
			offer := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
			if noTakeover {
				offer = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
			}
			rc := dialRawWith(t, addr, offer)
			assert.Contains(t, rc.resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
			server := <-conns
			msg := []byte("Hello, Hello, Hello! Hello")
			require.NoError(t, server.WriteMessage(context.Background(), MessageText, msg))
			require.NoError(t, server.WriteMessage(context.Background(), MessageText, msg))
			var dict []byte
			var sizes []int
			for range 2 {
				h, p := rc.readFrame()
				require.True(t, h.Rsv1, "RSV1 marks a compressed message")
				require.True(t, h.Fin)
				require.Equal(t, frame.OpText, h.Opcode)
				if noTakeover {
					dict = nil
				}
				got := inflateMessage(t, p, dict)
				assert.Equal(t, string(msg), string(got))
				dict = append(dict, got...)
				sizes = append(sizes, len(p))
			}
			if noTakeover {
				assert.Equal(t, sizes[0], sizes[1])
			} else {
				assert.Less(t, sizes[1], sizes[0], "the second message refers to the first")
			}
		})
	}
}

// TestDeflateRoundTrip runs every combination of parameters between our
// client and our server, with messages of every size that matters, text
// and binary, whole and streamed in fragments. WSPROTO_LONG=1 sends 4 MiB
// messages through every combination.
func TestDeflateRoundTrip(t *testing.T) {
	// 4 MiB messages go through a few combinations only (every one in a
	// long run): each costs seconds, minutes under the race detector.
	sizes := []int{0, 1, 125, 64 << 10}
	const big = 4 << 20
	type side struct{ server, client CompressionOptions }
	var combos []side
	for _, snt := range []bool{false, true} {
		for _, cnt := range []bool{false, true} {
			for _, bits := range [][2]int{{0, 0}, {9, 8}, {15, 12}} {
				o := CompressionOptions{ServerNoContextTakeover: snt, ClientNoContextTakeover: cnt, ServerMaxWindowBits: bits[0], ClientMaxWindowBits: bits[1], Threshold: -1}
				combos = append(combos, side{server: o, client: CompressionOptions{Threshold: -1, ClientMaxWindowBits: bits[1]}})
				combos = append(combos, side{server: CompressionOptions{Threshold: -1}, client: o})
			}
		}
	}
	combos = append(combos, side{server: CompressionOptions{Level: 9}, client: CompressionOptions{Level: 1}})
	for i, combo := range combos {
		t.Run(fmt.Sprintf("%d/%+v/%+v", i, combo.server, combo.client), func(t *testing.T) {
			server, client := pair(t, &UpgradeOptions{Compression: &combo.server}, &DialOptions{Compression: &combo.client})
			require.NotNil(t, server.compress)
			require.NotNil(t, client.compress)
			done := echoLoop(server)
			ctx := context.Background()
			var buf []byte
			sizes := sizes
			if !testing.Short() && (i%12 == 0 || !raceEnabled && os.Getenv("WSPROTO_LONG") != "") {
				sizes = append(sizes, big)
			}
			for _, size := range sizes {
				for _, typ := range []MessageType{MessageText, MessageBinary} {
					for _, streamed := range []bool{false, true} {
						msg := payload(size, typ == MessageText)
						if streamed {
							w, err := client.NextWriter(ctx, typ)
							require.NoError(t, err)
							for p := msg; len(p) > 0; p = p[min(len(p), 20_000):] {
								_, err := w.Write(p[:min(len(p), 20_000)])
								require.NoError(t, err)
								require.NoError(t, w.Flush())
							}
							require.NoError(t, w.Close())
						} else {
							require.NoError(t, client.WriteMessage(ctx, typ, msg))
						}
						var gotType MessageType
						var err error
						gotType, buf, err = client.ReadMessage(ctx, buf)
						require.NoError(t, err, "size %d %v streamed=%v", size, typ, streamed)
						require.Equal(t, typ, gotType)
						require.True(t, bytes.Equal(msg, buf), "size %d %v streamed=%v", size, typ, streamed)
					}
				}
			}
			require.NoError(t, client.Close(frame.CloseNormalClosure, ""))
			assert.Equal(t, frame.CloseNormalClosure, CloseStatus(<-done))
		})
	}
}

// TestDeflateBomb sends a message of about 1 MiB of deflate data that would
// inflate to 1 GiB: reading stops at the read limit with 1009, having
// inflated little more than the limit, long before the rest arrives.
func TestDeflateBomb(t *testing.T) {
	const limit = 1 << 20
	addr, conns, _ := listenRaw(t, &UpgradeOptions{ReadLimit: 4 * limit, Compression: &CompressionOptions{}, CloseTimeout: time.Second})
	rc := dialRawWith(t, addr, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
	server := <-conns
	server.SetReadLimit(limit)

	// 1 MiB of zeros deflates to about 1 KiB; the message repeats that
	// block, announcing a frame of 1 GiB / 1024 blocks' worth.
	var block bytes.Buffer
	fw, _ := flate.NewWriter(&block, flate.BestCompression)
	_, _ = fw.Write(make([]byte, 1<<20))
	_ = fw.Flush()
	blockBytes := block.Bytes()
	const repeats = 1024
	h := frame.Header{Fin: true, Rsv1: true, Opcode: frame.OpBinary, Masked: true, Length: int64(len(blockBytes) * repeats), Mask: [4]byte{1, 2, 3, 4}}
	errc := make(chan error, 1)
	var inflatedAtEnd int64
	go func() {
		_, _, err := server.ReadMessage(context.Background(), nil)
		inflatedAtEnd = server.compress.inflated
		errc <- err
	}()
	go func() {
		pos := 0
		_, _ = rc.nc.Write(frame.AppendHeader(nil, h))
		for range repeats {
			b := append([]byte(nil), blockBytes...)
			pos = frame.Mask(h.Mask, pos, b)
			if _, err := rc.nc.Write(b); err != nil {
				return
			}
		}
	}()
	select {
	case err := <-errc:
		require.ErrorIs(t, err, ErrMessageTooBig)
		assert.Equal(t, frame.CloseMessageTooBig, CloseStatus(err))
		assert.Less(t, inflatedAtEnd, int64(limit+64<<10), "inflating stops at the limit")
	case <-time.After(10 * time.Second):
		t.Fatal("the bomb was not stopped")
	}
	assert.Equal(t, frame.CloseMessageTooBig, rc.readClose())
}

// TestDeflateErrors: RSV1 where it may not be, and data that is not deflate.
func TestDeflateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		ext  string
		wire [][]byte
		code frame.CloseCode
		err  error
	}{
		{"RSV1 without the extension", "", [][]byte{{0xc1, 0x80, 1, 2, 3, 4}}, frame.CloseProtocolError, ErrReservedBits},
		{"RSV1 on a continuation", "permessage-deflate", [][]byte{frameBytes(false, frame.OpText, true, []byte("a")), maskedRsv1(frameBytes(true, frame.OpContinuation, true, []byte("b")))}, frame.CloseProtocolError, ErrReservedBits},
		{"RSV1 on a ping", "permessage-deflate", [][]byte{maskedRsv1(frameBytes(true, frame.OpPing, true, nil))}, frame.CloseProtocolError, ErrReservedBits},
		{"not deflate", "permessage-deflate", [][]byte{maskedRsv1(frameBytes(true, frame.OpBinary, true, []byte{0xff, 0xff, 0xff, 0xff}))}, frame.CloseInvalidFramePayloadData, ErrInvalidDeflate},
		{"invalid UTF-8 inside", "permessage-deflate", [][]byte{maskedRsv1(frameBytes(true, frame.OpText, true, deflateRaw([]byte("ok \xff"))))}, frame.CloseInvalidFramePayloadData, ErrInvalidUTF8},
		// Found by FuzzServerConnDeflate: the next frame's header fails the
		// connection with 1002 while the inflater still holds text that is
		// not UTF-8; the error must say 1002 too, as the close frame did.
		{"bad frame after invalid UTF-8", "permessage-deflate", [][]byte{maskedRsv1(frameBytes(false, frame.OpText, true, deflateRaw([]byte("ok \xff")))), withRsv2(frameBytes(true, frame.OpContinuation, true, []byte("x")))}, frame.CloseProtocolError, ErrReservedBits},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, conns, _ := listenRaw(t, &UpgradeOptions{Compression: &CompressionOptions{}, CloseTimeout: time.Second})
			header := ""
			if tc.ext != "" {
				header = "Sec-WebSocket-Extensions: " + tc.ext + "\r\n"
			}
			rc := dialRawWith(t, addr, header)
			server := <-conns
			errc := readInBackground(server)
			rc.send(tc.wire...)
			assert.Equal(t, tc.code, rc.readClose())
			err := <-errc
			require.ErrorIs(t, err, tc.err)
			assert.Equal(t, tc.code, CloseStatus(err))
		})
	}
}

func withRsv2(f []byte) []byte {
	f[0] |= 0x20
	return f
}

func maskedRsv1(f []byte) []byte {
	f[0] |= 0x40
	return f
}

// deflateRaw compresses p as a whole permessage-deflate payload with
// compress/flate, for tests that need a peer's compressor.
func deflateRaw(p []byte) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestSpeed)
	_, _ = fw.Write(p)
	_ = fw.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte(deflateTail))
}

// FuzzDeflateNegotiation checks the server's answer to any offer: it never
// panics, and what it accepts is a response a client making that offer must
// accept too, with windows no larger than offered.
func FuzzDeflateNegotiation(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=10; client_max_window_bits=8",
		"permessage-deflate; server_max_window_bits=16, permessage-deflate",
		`permessage-deflate; server_max_window_bits="9"`,
		"x-webkit-deflate-frame, permessage-deflate; mux",
	} {
		f.Add(s, uint8(0), uint8(0), false, false)
	}
	f.Fuzz(func(t *testing.T, offer string, serverBits, clientBits uint8, snt, cnt bool) {
		offers, err := handshake.ParseExtensions([]byte(offer))
		if err != nil {
			return
		}
		opts := CompressionOptions{ServerMaxWindowBits: int(serverBits % 17), ClientMaxWindowBits: int(clientBits % 17), ServerNoContextTakeover: snt, ClientNoContextTakeover: cnt}
		n, resp, ok := opts.accept(offers)
		if !ok {
			return
		}
		// The accepted offer is the first well-formed permessage-deflate one.
		var off deflateParams
		for _, e := range offers {
			if e.Name != extDeflate {
				continue
			}
			if p, good := parseDeflateParams(e); good {
				off = p
				break
			}
		}
		r, good := parseDeflateParams(resp)
		require.True(t, good, "response %q", resp.String())
		require.False(t, r.clientBitsNoValue)
		require.True(t, validBits(n.serverBits) && validBits(n.clientBits))
		if off.serverBits != 0 {
			require.LessOrEqual(t, n.serverBits, off.serverBits)
			require.Equal(t, n.serverBits, r.serverBits)
		}
		if off.clientBits != 0 {
			require.LessOrEqual(t, n.clientBits, off.clientBits)
		}
		if r.clientBits != 0 {
			require.True(t, off.clientBits != 0 || off.clientBitsNoValue, "client window limited without leave")
		}
		if off.serverNoTakeover {
			require.True(t, r.serverNoTakeover)
		}
		// A client whose offer this was agrees with the server.
		client := CompressionOptions{ServerNoContextTakeover: off.serverNoTakeover, ClientNoContextTakeover: off.clientNoTakeover, ServerMaxWindowBits: off.serverBits, ClientMaxWindowBits: off.clientBits}
		got, agreed, err := client.check([]handshake.Extension{resp})
		require.NoError(t, err)
		require.True(t, agreed)
		require.Equal(t, n, got)
	})
}

// TestIdleHoldsNoCompressor: between messages, a server without context
// takeover either way holds no compressor, no decompressor, no window and
// no pooled buffer; with takeover it keeps its compressor and the window
// (which shows the check can see them).
func TestIdleHoldsNoCompressor(t *testing.T) {
	msg := []byte(strings.Repeat(`{"seq":1,"channel":"updates","body":"price moved"},`, 40))
	for _, takeover := range []bool{false, true} {
		z := &CompressionOptions{ServerNoContextTakeover: !takeover, ClientNoContextTakeover: !takeover}
		server, client := pair(t, &UpgradeOptions{Compression: z}, &DialOptions{Compression: &CompressionOptions{}})
		ctx := context.Background()
		var buf []byte
		for range 3 {
			require.NoError(t, client.WriteMessage(ctx, MessageText, msg))
			typ, got, err := server.ReadMessage(ctx, buf)
			require.NoError(t, err)
			require.Equal(t, msg, got)
			require.NoError(t, server.WriteMessage(ctx, typ, got))
			_, echo, err := client.ReadMessage(ctx, nil)
			require.NoError(t, err)
			require.Equal(t, msg, echo)
			buf = got
		}
		sz := server.compress
		require.NotNil(t, sz)
		if takeover {
			assert.NotNil(t, sz.enc, "with takeover the compressor stays")
			assert.NotEmpty(t, sz.window, "with takeover the window stays")
		} else {
			assert.Nil(t, sz.enc, "compressor held while idle")
			assert.Empty(t, sz.window, "window held while idle")
		}
		assert.Nil(t, sz.reader, "decompressor held while idle")
		assert.Nil(t, server.rd.pooled, "pooled read buffer held while idle")
	}
}
