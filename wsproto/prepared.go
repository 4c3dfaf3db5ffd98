//go:build !js

package wsproto

import (
	"context"
	"sync"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/internal/deflate"
)

// PreparedMessage is a message encoded once for many connections: a
// broadcast to N clients frames it once, and compresses it once per kind of
// compressor, instead of N times. Make one with NewPreparedMessage and send
// it with Conn.WritePrepared. It is safe for concurrent use and immutable
// once made; the encodings are kept for as long as it is referenced, so a
// chat history of prepared messages costs no work when replayed.
type PreparedMessage struct {
	typ   MessageType
	plain []byte // the whole unmasked frame
	data  []byte // its payload, within plain

	mu     sync.Mutex
	packed []packedFrame // compressed frames, one per compressor kind
}

// packedFrame is a prepared message compressed, as a whole frame, by a
// fresh compressor of one window size and level.
type packedFrame struct {
	key   encoderKey
	frame []byte
}

// NewPreparedMessage prepares p, which it copies, as one message of type
// typ (MessageText or MessageBinary; text must be valid UTF-8, as for
// WriteMessage).
func NewPreparedMessage(typ MessageType, p []byte) (*PreparedMessage, error) {
	if typ != MessageText && typ != MessageBinary {
		return nil, ErrBadMessageType
	}
	h := frame.Header{Fin: true, Opcode: frame.Opcode(typ), Length: int64(len(p))}
	b := make([]byte, 0, h.Size()+len(p))
	b = frame.AppendHeader(b, h)
	b = append(b, p...)
	return &PreparedMessage{typ: typ, plain: b, data: b[h.Size():]}, nil
}

// Type returns the message's type.
func (m *PreparedMessage) Type() MessageType { return m.typ }

// Len returns the length of the message's payload, uncompressed.
func (m *PreparedMessage) Len() int { return len(m.data) }

// WritePrepared sends m, like WriteMessage(ctx, m.Type(), payload) and with
// the same contract, but without encoding it again. A server connection
// writes the frame prepared for it: the plain one, or, when
// permessage-deflate is on and the message reaches the threshold, the one
// compressed for its window and level if its compressor keeps no context
// between messages (ServerNoContextTakeover). A compressor with context
// takeover, and a client, which must mask each frame with a fresh key,
// encode m for themselves.
func (c *Conn) WritePrepared(ctx context.Context, m *PreparedMessage) error {
	z := c.compress
	compress := z != nil && (z.threshold < 0 || len(m.data) >= z.threshold)
	if c.client || (compress && z.writeTakeover) {
		return c.writeMessage(ctx, m.typ, m.data, compress)
	}
	b := m.plain
	if compress {
		b = m.compressed(encoderKey{z.writeBits, z.level})
	}
	if err := c.lockWrite(ctx); err != nil {
		return err
	}
	stop, err := c.watch(ctx)
	if err == nil {
		c.frameMu.Lock()
		err = c.unlockFrame(c.writeFrameLocked(b))
		err = c.settle(ctx, stop, err)
	}
	c.unlockWrite()
	return err
}

// writeFrameLocked sends a whole encoded data frame, with frameMu held.
func (c *Conn) writeFrameLocked(b []byte) error {
	if c.closeSent {
		return c.sentCloseErr()
	}
	_, err := c.nc.Write(b)
	return c.finishWrite(err)
}

// compressed returns m as one compressed frame (RFC 7692 §7.2.1) from a
// fresh compressor of the given kind, made on first use.
func (m *PreparedMessage) compressed(key encoderKey) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.packed {
		if p.key == key {
			return p.frame
		}
	}
	pool := encoderPool(key)
	enc := pool.Get().(*deflate.Writer)
	out := enc.Append(make([]byte, frame.MaxHeaderSize, frame.MaxHeaderSize+deflate.MaxOutput(len(m.data))), m.data, true)
	enc.Reset()
	pool.Put(enc)
	n := len(out) - frame.MaxHeaderSize - len(deflateTail)
	h := frame.Header{Fin: true, Rsv1: true, Opcode: frame.Opcode(m.typ), Length: int64(n)}
	start := frame.MaxHeaderSize - h.Size()
	frame.AppendHeader(out[start:start], h)
	b := out[start : frame.MaxHeaderSize+n : frame.MaxHeaderSize+n]
	m.packed = append(m.packed, packedFrame{key, b})
	return b
}
