//go:build !js

package wsproto

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hostile-input tables: bad input of every kind, on real sockets, each
// with the answer it must get. After each row, the server's goroutines and
// heap must be back where they were.

// heapAfterGC is the live heap once garbage (and sync.Pool's victim
// cache) is collected.
func heapAfterGC() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// checkHeap fails the test if the live heap grew by more than slack
// between now and the test's end.
func checkHeap(t *testing.T) {
	before := heapAfterGC()
	t.Cleanup(func() {
		grown := heapAfterGC() - before
		assert.Less(t, grown, int64(256<<10), "live heap grew by %d bytes", grown)
	})
}

const goodRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// without returns goodRequest without the header line starting with name.
func without(name string) string {
	lines := strings.Split(goodRequest, "\r\n")
	var kept []string
	for _, l := range lines {
		if !strings.HasPrefix(l, name+":") {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\r\n")
}

// with returns goodRequest with extra header lines.
func with(lines string) string {
	return strings.TrimSuffix(goodRequest, "\r\n") + lines + "\r\n"
}

func TestHostileHandshake(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name    string
		request string
		drip    bool   // send a byte every 20 ms, never finishing
		status  int    // 0: closed without an answer
		header  string // the header the refusal names
		err     error  // what UpgradeConn returns
	}{
		{"missing Upgrade", without("Upgrade"), false, 426, "Upgrade", handshake.ErrNotWebSocket},
		{"missing Connection", without("Connection"), false, 400, "Connection", nil},
		{"missing Host", without("Host"), false, 400, "Host", nil},
		{"missing key", without("Sec-WebSocket-Key"), false, 400, "Sec-WebSocket-Key", handshake.ErrBadKey},
		{"duplicated key", with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), false, 400, "Sec-WebSocket-Key", handshake.ErrBadKey},
		{"bad key", strings.Replace(goodRequest, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ==", 1), false, 400, "Sec-WebSocket-Key", handshake.ErrBadKey},
		{"missing version", without("Sec-WebSocket-Version"), false, 426, "Sec-WebSocket-Version", handshake.ErrBadVersion},
		{"wrong version", strings.Replace(goodRequest, "Version: 13", "Version: 8", 1), false, 426, "Sec-WebSocket-Version", handshake.ErrBadVersion},
		{"duplicated version", with("Sec-WebSocket-Version: 13\r\n"), false, 426, "Sec-WebSocket-Version", handshake.ErrBadVersion},
		{"POST", strings.Replace(goodRequest, "GET", "POST", 1), false, 405, "", handshake.ErrBadMethod},
		{"HTTP/1.0", strings.Replace(goodRequest, "HTTP/1.1", "HTTP/1.0", 1), false, 400, "", nil},
		{"foreign origin", with("Origin: http://evil.example\r\n"), false, 403, "Origin", handshake.ErrBadOrigin},
		{"1 MB header line", with("X-Big: " + strings.Repeat("a", 1<<20) + "\r\n"), false, 431, "", handshake.ErrHeaderTooLarge},
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", false, 400, "", nil},
		{"slowloris", goodRequest[:40], false, 0, "", os.ErrDeadlineExceeded},
		{"slowloris drip", goodRequest, true, 0, "", os.ErrDeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			checkHeap(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			errc := make(chan error, 1)
			go func() {
				nc, err := ln.Accept()
				if err == nil {
					var c *Conn
					c, err = UpgradeConn(nc, &UpgradeOptions{HandshakeTimeout: timeout})
					if c != nil {
						c.CloseNow()
					}
				}
				errc <- err
			}()
			nc, err := net.Dial("tcp", ln.Addr().String())
			require.NoError(t, err)
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
			go func() {
				if !tc.drip {
					_, _ = nc.Write([]byte(tc.request))
					return
				}
				// A byte per tick, the pace of a slow client; bounded:
				// 4 s at most.
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for i := 0; i < len(tc.request) && i < 200; i++ {
					if _, err := nc.Write([]byte{tc.request[i]}); err != nil {
						return
					}
					<-tick.C
				}
			}()

			start := time.Now()
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if tc.status == 0 {
				require.Error(t, err, "no answer, the connection just closes")
				assert.Less(t, time.Since(start), 2*time.Second, "closed by the handshake timeout")
			} else {
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, tc.status, resp.StatusCode)
				if tc.status == 426 && tc.header == "Sec-WebSocket-Version" {
					assert.Equal(t, "13", resp.Header.Get("Sec-WebSocket-Version"), "RFC 6455 §4.4")
				}
			}
			var uerr error
			require.True(t, bounded(t, 2*time.Second, "UpgradeConn", func() { uerr = <-errc }))
			if tc.err != nil {
				require.ErrorIs(t, uerr, tc.err)
			}
			var he *handshake.Error
			if tc.status != 0 {
				require.ErrorAs(t, uerr, &he)
				assert.Equal(t, tc.status, he.Status)
				assert.Equal(t, tc.header, he.Header)
			}
		})
	}
}

// hostileFrames are bytes a client sends after a good handshake, each with
// the close code the server must answer (0: none, the connection just
// ends) and the error its read returns.
func TestHostileFrames(t *testing.T) {
	masked := func(fin bool, op frame.Opcode, p []byte) []byte { return frameBytes(fin, op, true, p) }
	header := func(b ...byte) []byte { return append(b, 1, 2, 3, 4) } // a header with its mask key
	bomb := deflateRaw(make([]byte, 64<<20))
	for _, tc := range []struct {
		name     string
		deflate  bool
		wire     []byte
		halfOpen bool // the client stops sending after wire (TCP FIN)
		code     frame.CloseCode
		err      error
	}{
		{"RSV1 without extension", false, header(0xc1, 0x80), false, 1002, ErrReservedBits},
		{"RSV2", false, header(0xa1, 0x80), false, 1002, ErrReservedBits},
		{"RSV3", false, header(0x91, 0x80), false, 1002, ErrReservedBits},
		{"reserved data opcode 3", false, header(0x83, 0x80), false, 1002, frame.ErrReservedOpcode},
		{"reserved control opcode 11", false, header(0x8b, 0x80), false, 1002, frame.ErrReservedOpcode},
		{"length 2^63", false, header(0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0), false, 1002, frame.ErrLengthOverflow},
		{"16 MiB ping header", false, header(0x89, 0xff, 0, 0, 0, 0, 0x01, 0, 0, 0), false, 1002, frame.ErrControlTooLong},
		{"fragmented ping", false, masked(false, frame.OpPing, nil), false, 1002, frame.ErrFragmentedControl},
		{"close with 1-byte payload", false, masked(true, frame.OpClose, []byte{3}), false, 1002, frame.ErrCloseTooShort},
		{"close with 1005 on the wire", false, masked(true, frame.OpClose, []byte{0x03, 0xed}), false, 1002, frame.ErrInvalidCloseCode},
		{"close with 1006 on the wire", false, masked(true, frame.OpClose, []byte{0x03, 0xee}), false, 1002, frame.ErrInvalidCloseCode},
		{"close reason not UTF-8", false, masked(true, frame.OpClose, []byte{0x03, 0xe8, 0xce, 0xba, 0xff}), false, 1007, frame.ErrInvalidCloseReason},
		{"unmasked frame", false, frameBytes(true, frame.OpText, false, []byte("hi")), false, 1002, ErrUnmaskedFrame},
		{"continuation with nothing to continue", false, masked(true, frame.OpContinuation, []byte("x")), false, 1002, ErrUnexpectedContinuation},
		{"new message inside a fragmented one", false, append(masked(false, frame.OpText, []byte("a")), masked(true, frame.OpText, []byte("b"))...), false, 1002, ErrExpectedContinuation},
		{"text not UTF-8", false, masked(true, frame.OpText, []byte("ok \xed\xa0\x80")), false, 1007, ErrInvalidUTF8},
		{"oversized message", false, header(0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 1), false, 1009, ErrMessageTooBig},
		{"dropped in a header", false, []byte{0x82, 0xfe, 0x01}, true, 0, nil},
		{"dropped in a payload", false, header(0x82, 0x8a, 'h', 'a', 'l'), true, 0, nil},
		{"compressed data not deflate", true, maskedRsv1(masked(true, frame.OpBinary, []byte{0xff, 0xff, 0xff, 0xff})), false, 1007, ErrInvalidDeflate},
		{"decompression bomb", true, maskedRsv1(masked(true, frame.OpBinary, bomb)), false, 1009, ErrMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			checkHeap(t)
			addr, conns, _ := listenRaw(t, &UpgradeOptions{
				ReadLimit: 1 << 20, CloseTimeout: 200 * time.Millisecond,
				Compression: &CompressionOptions{},
			})
			ext := ""
			if tc.deflate {
				ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
			}
			rc := dialRawWith(t, addr, ext)
			server := <-conns
			errc := readInBackground(server)
			go func() {
				_, _ = rc.nc.Write(tc.wire) // the server may close before it has read it all
				if tc.halfOpen {
					_ = rc.nc.(*net.TCPConn).CloseWrite()
				}
			}()
			var err error
			require.True(t, bounded(t, 5*time.Second, "the server's read", func() { err = <-errc }))
			if tc.code == 0 {
				assert.Equal(t, frame.CloseAbnormalClosure, CloseStatus(err), "%v", err)
				rc.expectEOF()
			} else {
				assert.Equal(t, tc.code, rc.readClose())
				require.ErrorIs(t, err, tc.err)
				assert.Equal(t, tc.code, CloseStatus(err))
			}
			var pe *ProtocolError
			if tc.code != 0 {
				require.ErrorAs(t, err, &pe, "the error says what we failed the connection with")
			}
			rc.nc.Close()
			server.CloseNow()
		})
	}
}

// TestHostileServer is the client's side of the table: a server that masks
// its frames, or announces a length no one can send.
func TestHostileServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
		code frame.CloseCode
		err  error
	}{
		{"masked frame", frameBytes(true, frame.OpText, true, []byte("hi")), 1002, ErrMaskedFrame},
		{"length 2^63", []byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, 1002, frame.ErrLengthOverflow},
		{"text not UTF-8", frameBytes(true, frame.OpText, false, []byte{0xc0, 0xaf}), 1007, ErrInvalidUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			checkHeap(t)
			srv := newRawServer(t)
			c, _, err := Dial(context.Background(), "ws://"+srv.addr+"/", &DialOptions{CloseTimeout: 500 * time.Millisecond})
			require.NoError(t, err)
			peer := <-srv.conns
			errc := readInBackground(c)
			peer.send(tc.wire)
			h, p := peer.readMaskedFrame()
			require.Equal(t, frame.OpClose, h.Opcode)
			code, _, perr := frame.ParseClosePayload(p)
			require.NoError(t, perr)
			assert.Equal(t, tc.code, code)
			peer.nc.Close()
			err = <-errc
			require.ErrorIs(t, err, tc.err)
			assert.True(t, errors.Is(err, ErrClosed))
		})
	}
}
