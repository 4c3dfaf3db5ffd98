//go:build !js

package fuzz

import (
	"bytes"
	"compress/flate"
	"strings"

	"github.com/db7c6739/ws/frame"
)

// The seeds below follow the shapes of the Autobahn testsuite's cases,
// section by section, as frames a client sends (masked) or a server sends
// (plain). Recorded traffic from real peers is in testdata/fuzz/.

// wire builds frames for one direction: masked from a client.
type wire struct {
	masked  bool
	deflate *flate.Writer // with context takeover, as the default offer allows
	z       bytes.Buffer
}

func (w *wire) frame(fin bool, rsv byte, op frame.Opcode, p []byte) []byte {
	h := frame.Header{Fin: fin, Rsv1: rsv&4 != 0, Rsv2: rsv&2 != 0, Rsv3: rsv&1 != 0, Opcode: op, Length: int64(len(p))}
	if w.masked {
		h.Masked, h.Mask = true, [4]byte{0x37, 0xfa, 0x21, 0x3d}
	}
	b := frame.AppendHeader(nil, h)
	n := len(b)
	b = append(b, p...)
	if h.Masked {
		frame.Mask(h.Mask, 0, b[n:])
	}
	return b
}

func (w *wire) text(s string) []byte { return w.frame(true, 0, frame.OpText, []byte(s)) }
func (w *wire) binary(n int) []byte {
	return w.frame(true, 0, frame.OpBinary, bytes.Repeat([]byte{0xfe}, n))
}
func (w *wire) ping(p string) []byte   { return w.frame(true, 0, frame.OpPing, []byte(p)) }
func (w *wire) close(p []byte) []byte  { return w.frame(true, 0, frame.OpClose, p) }
func (w *wire) closeCode(c int) []byte { return w.close([]byte{byte(c >> 8), byte(c)}) }

// compressed returns p deflated as one message's payload (RFC 7692 §7.2.1).
func (w *wire) compressed(p []byte) []byte {
	if w.deflate == nil {
		w.deflate, _ = flate.NewWriter(&w.z, flate.BestSpeed)
	}
	w.z.Reset()
	_, _ = w.deflate.Write(p)
	_ = w.deflate.Flush()
	return bytes.TrimSuffix(bytes.Clone(w.z.Bytes()), []byte{0, 0, 0xff, 0xff})
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// seeds returns the case shapes for one direction.
func seeds(masked, deflate bool) [][]byte {
	w := &wire{masked: masked}
	var s [][]byte
	// 1: text and binary at every length boundary.
	for _, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
		s = append(s, w.text(strings.Repeat("*", n)), w.binary(n))
	}
	// 2: pings and pongs.
	s = append(s,
		w.ping(""), w.ping("Hello, world!"), w.frame(true, 0, frame.OpPing, bytes.Repeat([]byte{0xfe}, 125)),
		w.frame(true, 0, frame.OpPing, bytes.Repeat([]byte{0xfe}, 126)),
		w.frame(true, 0, frame.OpPong, []byte("unsolicited")),
		cat(w.frame(true, 0, frame.OpPong, []byte("unsolicited")), w.ping("ping")),
		bytes.Repeat(w.ping("payload"), 10))
	// 3: reserved bits.
	for rsv := byte(1); rsv < 8; rsv++ {
		s = append(s, cat(w.text("Hello"), w.frame(true, rsv, frame.OpText, []byte("Hello")), w.ping("")))
	}
	s = append(s, w.frame(true, 4, frame.OpPing, []byte("Hello")))
	// 4: reserved opcodes.
	for _, op := range []frame.Opcode{3, 4, 5, 6, 7, 11, 12, 13, 14, 15} {
		s = append(s, cat(w.text("Hello"), w.frame(true, 0, op, []byte("reserved")), w.ping("")))
	}
	// 5: fragmentation.
	s = append(s,
		w.frame(false, 0, frame.OpPing, []byte("frag")),
		cat(w.frame(false, 0, frame.OpText, []byte("frag")), w.frame(true, 0, frame.OpContinuation, []byte("ment"))),
		cat(w.frame(false, 0, frame.OpText, []byte("frag")), w.ping("between"), w.frame(true, 0, frame.OpContinuation, []byte("ment"))),
		w.frame(true, 0, frame.OpContinuation, []byte("nothing to continue")),
		cat(w.frame(false, 0, frame.OpText, []byte("frag")), w.text("new message")),
		cat(w.frame(false, 0, frame.OpText, nil), w.frame(false, 0, frame.OpContinuation, nil), w.frame(true, 0, frame.OpContinuation, nil)))
	one := []byte{}
	for i, c := range []byte("fragmented one byte at a time") {
		op := frame.OpContinuation
		if i == 0 {
			op = frame.OpText
		}
		one = append(one, w.frame(i == 28, 0, op, []byte{c})...)
	}
	s = append(s, one)
	// 6: UTF-8, valid and not, whole and split at every byte.
	for _, text := range []string{
		"Hello-µ@ßöäüàá-UTF-8!!", "κόσμε", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
		"\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\xf0\x9f\x98", "\xef\xbb\xbf", "\xf4\x8f\xbf\xbf",
	} {
		s = append(s, w.text(text))
		for k := 1; k < len(text) && k < 8; k++ {
			s = append(s, cat(w.frame(false, 0, frame.OpText, []byte(text[:k])), w.frame(true, 0, frame.OpContinuation, []byte(text[k:]))))
		}
	}
	// 7: closing.
	s = append(s, w.close(nil), w.close([]byte{0x03}), w.close(append([]byte{0x03, 0xe8}, "Hello"...)),
		w.close(append([]byte{0x03, 0xe8}, 0xce, 0xba, 0xff)),
		w.close(append([]byte{0x03, 0xe8}, bytes.Repeat([]byte{'*'}, 123)...)),
		w.close(append([]byte{0x03, 0xe8}, bytes.Repeat([]byte{'*'}, 124)...)),
		cat(w.closeCode(1000), w.text("after close")), cat(w.closeCode(1000), w.ping("after close")),
		cat(w.frame(false, 0, frame.OpText, []byte("frag")), w.closeCode(1000)))
	for _, code := range []int{0, 999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 3000, 3999, 4000, 4999, 5000, 65535} {
		s = append(s, w.closeCode(code))
	}
	// 9 and 10: large messages, and one fragmented the way a browser does.
	big := bytes.Repeat([]byte("abcdefghij"), 6000)
	var frag []byte
	for i := 0; i < len(big); i += 1300 {
		op := frame.OpContinuation
		if i == 0 {
			op = frame.OpBinary
		}
		frag = append(frag, w.frame(i+1300 >= len(big), 0, op, big[i:min(i+1300, len(big))])...)
	}
	s = append(s, frag, w.frame(true, 0, frame.OpBinary, big))
	// Lengths that lie: 2^63 and beyond, a 16 MiB ping, a frame cut short.
	s = append(s,
		[]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4},
		[]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4},
		[]byte{0x89, 0xff, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3, 4},
		w.text("Hello")[:4])
	// The wrong masking for the direction.
	other := &wire{masked: !masked}
	s = append(s, other.text("Hello"))
	if !deflate {
		return s
	}
	// 12 and 13: compressed messages, with the history kept between them.
	msg := []byte(`{"type":"message","text":"Hello, compressed world! Hello, compressed world!"}`)
	z1 := w.compressed(msg)
	z2 := w.compressed(msg)
	s = append(s,
		cat(w.frame(true, 4, frame.OpText, z1), w.frame(true, 4, frame.OpText, z2), w.text("plain")),
		cat(w.frame(false, 4, frame.OpBinary, z1[:3]), w.ping(""), w.frame(true, 0, frame.OpContinuation, z1[3:])),
		w.frame(true, 4, frame.OpText, []byte{0x00}),
		w.frame(true, 4, frame.OpText, []byte{0x03, 0x00}),
		w.frame(true, 4, frame.OpText, []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0xff}),
		w.frame(true, 4, frame.OpText, []byte{0xff, 0xff, 0xff, 0xff}),
		cat(w.frame(false, 4, frame.OpText, z1[:3]), w.frame(true, 4, frame.OpContinuation, z1[3:])),
		w.frame(true, 4, frame.OpPing, []byte("compressed ping")),
		w.frame(true, 4, frame.OpText, w.compressed(bytes.Repeat([]byte{0}, 1<<20))))
	return s
}

// deflateHello is "Hello" compressed, from a client (RFC 7692 §7.2.3.1).
var deflateHello = []byte{0xc1, 0x87, 0, 0, 0, 0, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}

func serverSeeds(deflate bool) [][]byte { return seeds(true, deflate) }
func clientSeeds(deflate bool) [][]byte { return seeds(false, deflate) }
