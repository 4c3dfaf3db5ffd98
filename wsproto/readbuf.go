//go:build !js

package wsproto

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// readBuffer buffers what arrives from the network. At a message boundary it
// reads into a small buffer the connection owns; once more arrives than that
// holds, it borrows a pooled buffer, and it gives that back when it has been
// drained at the end of a message. Large payloads bypass it and are read
// straight into the caller's slice.
type readBuffer struct {
	nc     net.Conn
	pool   *sync.Pool
	size   int32   // of a pooled buffer; at least 2*inlineSize
	pooled *[]byte // borrowed from pool, or nil
	buf    []byte  // inline[:], *pooled, or a buffer of its own for an oversized leftover
	r, w   int
	inline [inlineSize]byte
	// For the heartbeat, if watched: heard counts each read from the
	// network twice, as it begins and as it ends, so that it is odd while
	// one waits on the network and changes whenever one happened.
	heard   atomic.Uint32
	watched bool
}

func (b *readBuffer) init(nc net.Conn, size int, leftover []byte) {
	b.nc, b.pool, b.size = nc, poolFor(size), int32(size)
	b.buf = b.inline[:]
	if len(leftover) > len(b.buf) {
		b.buf = make([]byte, len(leftover))
	}
	b.w = copy(b.buf, leftover)
}

// fill reads until at least n bytes (n <= inlineSize) are buffered.
func (b *readBuffer) fill(n int) error {
	for b.w-b.r < n {
		if err := b.readMore(); err != nil {
			return err
		}
	}
	return nil
}

// readMore makes room and does one read from the network.
func (b *readBuffer) readMore() error {
	if b.r == b.w {
		b.r, b.w = 0, 0
	}
	if b.w == len(b.buf) {
		unread := b.buf[b.r:b.w]
		switch {
		case b.pooled == nil && len(b.buf) == inlineSize:
			b.pooled = b.pool.Get().(*[]byte)
			b.buf = *b.pooled
			copy(b.buf, unread)
		case b.r > 0:
			copy(b.buf, unread)
		default:
			nb := make([]byte, 2*len(b.buf))
			copy(nb, unread)
			b.giveBack()
			b.buf = nb
		}
		b.r, b.w = 0, len(unread)
	}
	b.watch()
	n, err := b.nc.Read(b.buf[b.w:])
	b.watch()
	b.w += n
	if n > 0 {
		return nil
	}
	if err == io.EOF && b.w > b.r {
		// The stream ended within what fill waits for: part of a header,
		// or of a control frame.
		err = io.ErrUnexpectedEOF
	}
	return err
}

// watch marks the beginning or the end of a read from the network.
func (b *readBuffer) watch() {
	if b.watched {
		b.heard.Add(1)
	}
}

// waiting reports whether a read waits on the network (if watched).
func (b *readBuffer) waiting() bool { return b.heard.Load()&1 == 1 }

func (b *readBuffer) giveBack() {
	if b.pooled != nil {
		b.pool.Put(b.pooled)
		b.pooled = nil
	}
}

// read copies buffered bytes into p, or reads from the network: straight
// into p when p is at least as large as a pooled buffer, else through the
// buffer, which may then hold what follows p too.
func (b *readBuffer) read(p []byte) (int, error) {
	if b.r == b.w {
		if len(p) >= int(b.size) {
			b.watch()
			n, err := b.nc.Read(p)
			b.watch()
			return n, err
		}
		if b.pooled == nil && len(b.buf) == inlineSize {
			// Within a frame: more is coming than the inline buffer
			// was meant for.
			b.pooled = b.pool.Get().(*[]byte)
			b.buf = *b.pooled
			b.r, b.w = 0, 0
		}
		if err := b.readMore(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// skip discards the next n bytes of the stream.
func (b *readBuffer) skip(n int64) error {
	for n > 0 {
		if b.r == b.w {
			if err := b.readMore(); err != nil {
				return err
			}
		}
		k := min(n, int64(b.w-b.r))
		b.r += int(k)
		n -= k
	}
	return nil
}

// idle is called at a message boundary: once drained, the buffer goes back
// to the pool and the next read lands in the inline buffer.
func (b *readBuffer) idle() {
	if b.r != b.w {
		return
	}
	b.r, b.w = 0, 0
	if len(b.buf) != len(b.inline) || b.pooled != nil {
		b.giveBack()
		b.buf = b.inline[:]
	}
}
