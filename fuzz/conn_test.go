package fuzz

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/require"
)

const upgradeRequest = "GET / HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

func masked(fin bool, op frame.Opcode, p []byte) []byte {
	h := frame.Header{Fin: fin, Opcode: op, Masked: true, Length: int64(len(p)), Mask: [4]byte{1, 2, 3, 4}}
	b := frame.AppendHeader(nil, h)
	n := len(b)
	b = append(b, p...)
	frame.Mask(h.Mask, 0, b[n:])
	return b
}

// FuzzServerConn feeds arbitrary bytes, after a valid handshake, to a server
// Conn that echoes every message (see serve for the properties checked).
func FuzzServerConn(f *testing.F) {
	f.Add(masked(true, frame.OpText, []byte("Hello")))
	f.Add(append(masked(false, frame.OpText, []byte("Hel")), masked(true, frame.OpContinuation, []byte("lo"))...))
	f.Add(masked(true, frame.OpPing, []byte("ping")))
	f.Add(masked(true, frame.OpClose, []byte{0x03, 0xe8}))
	f.Add(masked(true, frame.OpClose, []byte{0x03}))
	f.Add(masked(true, frame.OpText, []byte{0xce, 0xba, 0xff}))
	f.Add([]byte{0xc1, 0x80, 1, 2, 3, 4})
	f.Add([]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4})
	f.Add(masked(true, frame.OpBinary, make([]byte, 300)))
	f.Fuzz(func(t *testing.T, input []byte) {
		serve(t, upgradeRequest, nil, input)
	})
}

// FuzzServerConnDeflate is FuzzServerConn with permessage-deflate agreed,
// so that RSV1 frames are inflated.
func FuzzServerConnDeflate(f *testing.F) {
	hello := []byte{0xc1, 0x87, 0, 0, 0, 0, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	f.Add(hello)
	f.Add(append(append([]byte(nil), hello...), hello...))
	f.Add([]byte{0x41, 0x83, 0, 0, 0, 0, 0xf2, 0x48, 0xcd, 0x80, 0x84, 0, 0, 0, 0, 0xc9, 0xc9, 0x07, 0x00})
	f.Add([]byte{0xc1, 0x81, 0, 0, 0, 0, 0x00})
	f.Add([]byte{0xc2, 0x84, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, input []byte) {
		serve(t, deflateRequest, &wsproto.CompressionOptions{}, input)
	})
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
	f.Fuzz(func(t *testing.T, payload []byte, text bool, split uint8) {
		op := frame.OpBinary
		if text {
			op = frame.OpText
		}
		var wire []byte
		if k := int(split); k > 0 && k < len(payload) {
			first := masked(false, op, payload[:k])
			first[0] |= 0x40
			wire = append(first, masked(true, frame.OpContinuation, payload[k:])...)
		} else {
			wire = masked(true, op, payload)
			wire[0] |= 0x40
		}
		serve(t, deflateRequest, &wsproto.CompressionOptions{}, wire)
	})
}

const deflateRequest = "GET / HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"

// serve runs an echoing server Conn over net.Pipe, sends it request and
// input, and checks that it ends within a bound without panicking and that
// any close frame it sent carries a code allowed on the wire (or none).
func serve(t *testing.T, request string, compression *wsproto.CompressionOptions, input []byte) {
	srvConn, cliConn := net.Pipe()
	defer cliConn.Close()
	deadline := time.Now().Add(5 * time.Second)
	_ = srvConn.SetDeadline(deadline)
	_ = cliConn.SetDeadline(deadline)

	served := make(chan error, 1)
	go func() {
		c, err := wsproto.UpgradeConn(srvConn, &wsproto.UpgradeOptions{
			ReadLimit: 1 << 16, CloseTimeout: 50 * time.Millisecond, Compression: compression,
		})
		if err != nil {
			served <- err
			return
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(context.Background(), buf)
			if err != nil {
				served <- err
				return
			}
			if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
				served <- err
				return
			}
			buf = msg
		}
	}()

	// Read everything the server sends while the input goes in.
	closeCodes := make(chan []frame.CloseCode, 1)
	go func() {
		br := bufio.NewReader(cliConn)
		var codes []frame.CloseCode
		defer func() { closeCodes <- codes }()
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
		for { // skip the rest of the response head
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		scratch := make([]byte, frame.MaxHeaderSize)
		for {
			h, err := frame.ReadHeader(br, scratch)
			if err != nil {
				return
			}
			p := make([]byte, min(h.Length, 1<<20))
			if _, err := io.ReadFull(br, p); err != nil {
				return
			}
			if h.Opcode == frame.OpClose {
				if len(p) >= 2 {
					codes = append(codes, frame.CloseCode(binary.BigEndian.Uint16(p)))
				} else {
					codes = append(codes, frame.CloseNoStatusReceived)
				}
			}
		}
	}()

	_, _ = io.WriteString(cliConn, request)
	_, _ = cliConn.Write(input)
	_ = cliConn.Close() // end of input: the server must finish

	select {
	case err := <-served:
		require.Error(t, err)
		require.True(t, errors.Is(err, wsproto.ErrClosed), "unexpected end: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not finish")
	}
	for _, code := range <-closeCodes {
		require.True(t, code == frame.CloseNoStatusReceived || code.IsValidOnWire(), "close code %d", code)
	}
}
