//go:build !js

package fuzz

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/require"
)

const upgradeRequest = "GET / HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

const deflateRequest = "GET / HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"

// The server's answer to the client targets' handshake; {accept} becomes
// the right Sec-WebSocket-Accept.
const (
	upgradeResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: {accept}\r\n\r\n"
	deflateResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
)

// The limits of the connections under test: small, so that the fuzzer can
// reach them.
func serverOptions(z *wsproto.CompressionOptions) *wsproto.UpgradeOptions {
	return &wsproto.UpgradeOptions{ReadLimit: 1 << 16, CloseTimeout: 50 * time.Millisecond, Compression: z}
}

// FuzzServerConn feeds arbitrary bytes, after a valid handshake, to a server
// Conn that echoes every message; see serve for the properties.
func FuzzServerConn(f *testing.F) {
	for _, seed := range serverSeeds(false) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		serve(t, []byte(upgradeRequest), nil, input)
	})
}

// FuzzServerConnDeflate is FuzzServerConn with permessage-deflate agreed,
// so that RSV1 frames are inflated.
func FuzzServerConnDeflate(f *testing.F) {
	for _, seed := range serverSeeds(true) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		serve(t, []byte(deflateRequest), &wsproto.CompressionOptions{}, input)
	})
}

// FuzzUpgradeRequest feeds arbitrary bytes to UpgradeConn as the whole
// stream, the opening handshake included. The answer must be a 101 with the
// right Sec-WebSocket-Accept, or a refusal with its status; after a 101,
// the properties of serve hold.
func FuzzUpgradeRequest(f *testing.F) {
	f.Add([]byte(upgradeRequest))
	f.Add([]byte(deflateRequest + string(deflateHello)))
	f.Add([]byte(upgradeRequest + string((&wire{masked: true}).text("Hello"))))
	f.Add([]byte(strings.Replace(upgradeRequest, "13", "8", 1)))
	f.Add([]byte(strings.Replace(upgradeRequest, "GET", "POST", 1)))
	f.Add([]byte(strings.Replace(upgradeRequest, "dGhlIHNhbXBsZSBub25jZQ==", "short", 1)))
	f.Add([]byte(strings.Replace(upgradeRequest, "\r\n\r\n", "\r\nOrigin: http://elsewhere\r\n\r\n", 1)))
	f.Add([]byte(strings.Replace(deflateRequest, "permessage-deflate", "permessage-deflate; client_max_window_bits=9; server_no_context_takeover, x-webkit-deflate-frame", 1)))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: fuzz\r\n" + strings.Repeat("X: y\r\n", 2000) + "\r\n"))
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"))
	for _, seed := range recordedUpgrades(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		serve(t, nil, &wsproto.CompressionOptions{}, input)
	})
}

// serve runs an echoing server Conn over a scripted peer that sends request
// then input, and checks that it ends within a bound, without leaving a
// goroutine behind, answering the handshake as it should and closing with
// the code the RFC prescribes for what was wrong (see checkEnd).
func serve(t *testing.T, request []byte, z *wsproto.CompressionOptions, input []byte) {
	peer := &scriptedConn{in: append(append([]byte(nil), request...), input...)}
	var upgradeErr, end error
	run(t, func() {
		c, err := wsproto.UpgradeConn(peer, serverOptions(z))
		if err != nil {
			upgradeErr = err
			return
		}
		end = echo(c)
	})
	head, frames := splitHead(peer.output())
	if upgradeErr != nil && !errors.As(upgradeErr, new(*handshake.Error)) {
		// The request ended (EOF) before its head did: nothing to answer.
		require.True(t, errors.Is(upgradeErr, io.EOF) || errors.Is(upgradeErr, io.ErrUnexpectedEOF), "%v", upgradeErr)
		require.Empty(t, head)
		return
	}
	if upgradeErr != nil {
		require.True(t, strings.HasPrefix(string(head), "HTTP/1.1 4"), "refused with a 4xx: %q", head)
		length := headerValues(head, "Content-Length")
		require.Equal(t, []string{strconv.Itoa(len(frames))}, length, "the body is all that follows the head")
		return
	}
	require.True(t, strings.HasPrefix(string(head), "HTTP/1.1 101 "), "%q", head)
	sent, _ := splitHead(append(append([]byte(nil), request...), input...))
	keys := headerValues(sent, "Sec-WebSocket-Key")
	require.Len(t, keys, 1, "a request accepted with %d keys", len(keys))
	require.Contains(t, string(head), "\r\nSec-WebSocket-Accept: "+handshake.AcceptKey(keys[0])+"\r\n")
	checkEnd(t, end, sentCloses(t, frames))
}

// FuzzClientConn is FuzzServerConn for the client role: the input is what
// the server sends, its handshake response included ({accept} is replaced
// by the right Sec-WebSocket-Accept, so the fuzzer can keep or break it).
func FuzzClientConn(f *testing.F) {
	for _, seed := range clientSeeds(false) {
		f.Add(append([]byte(upgradeResponse), seed...))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		dial(t, nil, input)
	})
}

// FuzzClientConnDeflate is FuzzClientConn with permessage-deflate offered.
func FuzzClientConnDeflate(f *testing.F) {
	for _, seed := range clientSeeds(true) {
		f.Add(append([]byte(deflateResponse), seed...))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		dial(t, &wsproto.CompressionOptions{}, input)
	})
}

// dial runs an echoing client Conn against a scripted server and checks
// what serve checks.
func dial(t *testing.T, z *wsproto.CompressionOptions, input []byte) {
	peer := &scriptedConn{in: append([]byte(nil), input...), accept: []byte{}}
	var dialErr, end error
	run(t, func() {
		c, _, err := wsproto.Dial(context.Background(), "ws://fuzz/", &wsproto.DialOptions{
			ReadLimit: 1 << 16, CloseTimeout: 50 * time.Millisecond, Compression: z,
			NetDialContext: peer.dial,
		})
		if err != nil {
			dialErr = err
			return
		}
		end = echo(c)
	})
	request, frames := splitHead(peer.output())
	require.True(t, strings.HasPrefix(string(request), "GET / HTTP/1.1\r\n"), "%q", request)
	if dialErr != nil {
		require.Empty(t, frames, "no frame before the handshake is done")
		return
	}
	checkEnd(t, end, sentCloses(t, frames))
}

// FuzzInflate wraps arbitrary bytes as the payload of one compressed
// message, text or binary, in one or two frames: the inflater's input is
// entirely the fuzzer's.
func FuzzInflate(f *testing.F) {
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, true, uint8(3))
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, false, uint8(0))
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, true, uint8(0))
	f.Add([]byte{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}, true, uint8(5))
	f.Add([]byte{0x00}, true, uint8(0))
	w := &wire{masked: true}
	f.Fuzz(func(t *testing.T, payload []byte, text bool, split uint8) {
		op := frame.OpBinary
		if text {
			op = frame.OpText
		}
		var input []byte
		if k := int(split); k > 0 && k < len(payload) {
			input = cat(w.frame(false, 4, op, payload[:k]), w.frame(true, 0, frame.OpContinuation, payload[k:]))
		} else {
			input = w.frame(true, 4, op, payload)
		}
		serve(t, []byte(deflateRequest), &wsproto.CompressionOptions{}, input)
	})
}
