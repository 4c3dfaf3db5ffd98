package wsproto

import (
	"net"
	"sync"
)

// readBuffer buffers what arrives from the network. At a message boundary it
// reads into a small buffer the connection owns; once more arrives than that
// holds, it borrows a pooled buffer, and it gives that back when it has been
// drained at the end of a message. Large payloads bypass it and are read
// straight into the caller's slice.
//
// When the messages are large and the caller of ReadMessage passes a slice
// with room for the next one, the read at the boundary goes into that slice
// instead (see borrow), so that a large message costs one system call.
type readBuffer struct {
	nc       net.Conn
	pool     *sync.Pool
	size     int32   // of a pooled buffer; at least 2*inlineSize
	predict  int32   // size of the last message, if large and read whole: the likely next
	pooled   *[]byte // borrowed from pool, or nil
	buf      []byte  // inline[:], *pooled, the caller's slice, or a buffer of its own for an oversized leftover
	r, w     int
	borrowed bool // buf is the caller's slice
	inline   [inlineSize]byte
}

func (b *readBuffer) init(nc net.Conn, size int, leftover []byte) {
	b.nc, b.pool, b.size = nc, poolFor(size), int32(size)
	b.buf = b.inline[:]
	if len(leftover) > len(b.buf) {
		b.buf = make([]byte, len(leftover))
	}
	b.w = copy(b.buf, leftover)
}

// borrow makes p the buffer for the read at a message boundary (the
// buffer must be empty). The payload is then moved down within p as it is
// unmasked, always behind the bytes still to be read, and what is left of
// p's bytes after the message is moved out by unborrow before p goes back
// to the caller. Any read from the network while borrowed unborrows first.
func (b *readBuffer) borrow(p []byte) {
	b.giveBack()
	b.buf, b.r, b.w, b.borrowed = p, 0, 0, true
}

// readInto borrows p and reads into it.
func (b *readBuffer) readInto(p []byte) error {
	b.borrow(p)
	n, err := b.nc.Read(p)
	b.w = n
	if n > 0 {
		return nil
	}
	return err
}

// unborrow moves the unread bytes of a borrowed buffer to one of the
// connection's own.
func (b *readBuffer) unborrow() {
	if !b.borrowed {
		return
	}
	unread := b.buf[b.r:b.w]
	b.borrowed = false
	switch {
	case len(unread) <= inlineSize:
		b.buf = b.inline[:]
	case len(unread) <= int(b.size):
		b.pooled = b.pool.Get().(*[]byte)
		b.buf = *b.pooled
	default:
		b.buf = make([]byte, len(unread))
	}
	b.r, b.w = 0, copy(b.buf, unread)
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
	b.unborrow()
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
	n, err := b.nc.Read(b.buf[b.w:])
	b.w += n
	if n > 0 {
		return nil
	}
	return err
}

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
			return b.nc.Read(p)
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
	if len(b.buf) != len(b.inline) || b.pooled != nil || b.borrowed {
		b.giveBack()
		b.buf = b.inline[:]
		b.borrowed = false
	}
}
