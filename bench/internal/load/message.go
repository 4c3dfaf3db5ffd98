package load

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"slices"

	"github.com/db7c6739/ws/frame"
)

// JSONMessage returns a JSON-like message of n bytes, the shape of a chat or
// dashboard update: repetitive keys, varying values, as it compresses in
// real applications.
func JSONMessage(n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"seq":%d,"from":"client-%d","channel":"updates","body":"price moved to %d.%02d, volume %d","ok":true},`,
			i, i%13, 100+i*7%50, i*37%100, 1000+i*131%9000)
	}
	return b[:n]
}

// payload returns the message the load generator sends: JSON-like for
// deflate runs, mixed-script UTF-8 for text, pseudo-random bytes for binary.
func payload(size int, text, deflate bool) []byte {
	switch {
	case deflate:
		return JSONMessage(size)
	case text:
		return TextMessage(size)
	}
	b := make([]byte, size)
	rng := mrand.New(mrand.NewPCG(uint64(size), 7))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TextMessage returns n bytes of valid UTF-8 in the mix a chat carries:
// ASCII with Cyrillic, Greek, CJK and emoji, runes of 1 to 4 bytes, picked
// at random so that no two runs of the validator see the same block, and
// padded with ASCII to exactly n bytes.
func TextMessage(n int) []byte {
	words := []string{"hello", "ok", "Привет", "мир", "γειά", "σου", "世界", "你好", "こんにちは",
		"😀", "🎉", "👍", "café", "naïve", "€5", "→", "∑", "…", "42"}
	rng := mrand.New(mrand.NewPCG(uint64(n), 8))
	var b []byte
	for {
		w := words[rng.IntN(len(words))]
		if len(b)+len(w)+1 > n {
			break
		}
		b = append(append(b, w...), ' ')
	}
	for len(b) < n {
		b = append(b, '.')
	}
	return b
}

// compress deflates one message on its own, as permessage-deflate sends it
// without client context takeover (RFC 7692 §7.2.1): a sync flush with its
// trailing 00 00 ff ff removed. With no context carried between messages,
// the same bytes are a valid encoding of every message sent.
func compress(msg []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(msg); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
		return nil, fmt.Errorf("load: flate sync flush without its tail")
	}
	return b[:len(b)-4], nil
}

// inflate undoes compress, for checking a compressed echo.
func inflate(p []byte) ([]byte, error) {
	src := bytes.NewReader(append(append([]byte(nil), p...), 0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff))
	var out bytes.Buffer
	r := flate.NewReader(src)
	defer r.Close()
	if _, err := out.ReadFrom(r); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// template is one message as it goes on the wire, before masking: for
// WebSocket a client frame header (FIN, the opcode, RSV1 if compressed,
// the mask bit, a zero key) and the payload; for tcp a 4-byte big-endian
// length and the payload.
type template struct {
	wire    []byte
	keyAt   int // offset of the masking key in wire, -1 for tcp
	payload int // offset of the payload in wire
}

func newTemplate(proto string, p []byte, op frame.Opcode, compressed bool) template {
	if proto == "tcp" {
		w := make([]byte, 4, 4+len(p))
		w[0], w[1], w[2], w[3] = byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
		return template{wire: append(w, p...), keyAt: -1, payload: 4}
	}
	h := frame.AppendHeader(nil, frame.Header{Fin: true, Rsv1: compressed, Opcode: op, Masked: true, Length: int64(len(p))})
	return template{wire: append(h, p...), keyAt: len(h) - 4, payload: len(h)}
}

// appendTo appends the message to dst, masked with a fresh key from keys
// (RFC 6455 §5.3: every client frame, its own unpredictable key).
func (t *template) appendTo(dst []byte, keys *keySource) []byte {
	if t.keyAt < 0 {
		return append(dst, t.wire...)
	}
	// The header, then the payload masked as it is copied: one pass.
	off := len(dst)
	dst = append(dst, t.wire[:t.payload]...)
	k := keys.next()
	copy(dst[off+t.keyAt:], k[:])
	dst = slices.Grow(dst, len(t.wire)-t.payload)
	n := len(dst)
	dst = dst[:n+len(t.wire)-t.payload]
	frame.MaskCopy(dst[n:], t.wire[t.payload:], k, 0)
	return dst
}

// keySource hands out masking keys from crypto/rand, 1024 keys per call
// into the kernel, so that a fresh key costs nothing per frame.
type keySource struct {
	buf [4096]byte
	off int
}

func (k *keySource) next() [4]byte {
	if k.off == 0 || k.off+4 > len(k.buf) {
		_, _ = rand.Read(k.buf[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
		k.off = 0
	}
	var key [4]byte
	copy(key[:], k.buf[k.off:])
	k.off += 4
	return key
}
