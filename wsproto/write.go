//go:build !js

package wsproto

import (
	"context"
	"crypto/rand"
	"net"
	"sync"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/internal/deflate"
)

// WriteMessage sends p as one message of type typ, in a single frame. Any
// number of goroutines may write at once; messages never interleave. It
// blocks until the frame is handed to the network, ctx is done or a write
// deadline set on NetConn passes; cancellation and deadlines tear the
// connection down. Text must be valid UTF-8: it is not checked here.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	if typ != MessageText && typ != MessageBinary {
		return ErrBadMessageType
	}
	z := c.compress
	return c.writeMessage(ctx, typ, p, z != nil && (z.threshold < 0 || len(p) >= z.threshold))
}

// WriteCompressed is WriteMessage with the choice to compress made by the
// caller instead of the compression threshold: with compress, p goes out
// compressed if permessage-deflate was agreed; without, as it is.
func (c *Conn) WriteCompressed(ctx context.Context, typ MessageType, p []byte, compress bool) error {
	if typ != MessageText && typ != MessageBinary {
		return ErrBadMessageType
	}
	return c.writeMessage(ctx, typ, p, compress && c.compress != nil)
}

func (c *Conn) writeMessage(ctx context.Context, typ MessageType, p []byte, compress bool) error {
	if err := c.lockWrite(ctx); err != nil {
		return err
	}
	stop, err := c.watch(ctx)
	if err == nil {
		if compress {
			err = c.writeCompressed(frame.Opcode(typ), p)
		} else {
			err = c.writeData(frame.Opcode(typ), true, p)
		}
		err = c.settle(ctx, stop, err)
	}
	c.unlockWrite()
	return err
}

// writeCompressed sends p as one compressed message (RFC 7692 §7.2.1): the
// compressor's output goes out through a pooled buffer, a frame per
// buffer, with RSV1 on the first frame and the final 00 00 ff ff stripped.
func (c *Conn) writeCompressed(op frame.Opcode, p []byte) error {
	enc := c.compress.encoder()
	b := c.wpool.Get().(*[]byte)
	out := (*b)[frame.MaxHeaderSize:frame.MaxHeaderSize]
	chunk := maxDeflateInput(cap(out))
	first := true
	var err error
	for {
		k := min(len(p), chunk)
		last := k == len(p)
		n := len(enc.Append(out, p[:k], last))
		p = p[k:]
		if last {
			n -= len(deflateTail)
		}
		if n > 0 || last {
			if err = c.writeOwned(op, last, first, *b, n); err != nil {
				break
			}
			op, first = frame.OpContinuation, false
		}
		if last {
			break
		}
	}
	c.wpool.Put(b)
	c.compress.doneEncoding(enc)
	return err
}

// maxDeflateInput is the most input whose compressed form surely fits in
// room bytes.
func maxDeflateInput(room int) int {
	k := room * 8 / 9
	for k > 0 && deflate.MaxOutput(k) > room {
		k--
	}
	return k
}

// NextWriter starts a message of type typ and returns a writer of its
// payload. Writes are buffered and go out as frames of up to the write
// buffer size; the writer also has a Flush method (interface{ Flush() error })
// that sends what is buffered as a frame. Close sends the final frame. Until
// then the message holds the write side: other messages wait, control frames
// still go out between its frames. Its writes use ctx.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (*MessageWriter, error) {
	if typ != MessageText && typ != MessageBinary {
		return nil, ErrBadMessageType
	}
	if err := c.lockWrite(ctx); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		c.unlockWrite()
		return nil, c.teardown(contextClosed(ctx))
	}
	w := &MessageWriter{c: c, ctx: ctx, op: frame.Opcode(typ), open: true}
	if c.compress != nil {
		w.enc = c.compress.encoder()
		w.rsv1 = true
	}
	return w, nil
}

// MessageWriter streams one message; see Conn.NextWriter. If a write fails
// (or its context ends) part way through the message, the connection is torn
// down: a message cut short cannot be resumed.
type MessageWriter struct {
	c    *Conn
	ctx  context.Context
	op   frame.Opcode // of the next frame: the message type, then continuation
	buf  *[]byte      // pooled; payload starts at frame.MaxHeaderSize
	n    int          // payload bytes buffered (compressed, with enc)
	open bool
	enc  *deflate.Writer // compressing the message, if permessage-deflate was agreed
	rsv1 bool            // the next frame is the first of a compressed message
}

// Write buffers p, sending a frame each time the buffer fills. A write at
// least a buffer long with nothing buffered goes out as its own frame.
func (w *MessageWriter) Write(p []byte) (int, error) {
	if !w.open {
		return 0, ErrWriterClosed
	}
	if w.enc != nil {
		return w.writeCompressed(p)
	}
	c := w.c
	total := len(p)
	for len(p) > 0 {
		if w.buf == nil && len(p) >= c.wsize-frame.MaxHeaderSize {
			if err := w.send(func() error { return c.writeData(w.op, false, p) }); err != nil {
				return 0, err
			}
			w.op = frame.OpContinuation
			return total, nil
		}
		if w.buf == nil {
			w.buf = c.wpool.Get().(*[]byte)
		}
		k := copy((*w.buf)[frame.MaxHeaderSize+w.n:], p)
		w.n += k
		p = p[k:]
		if frame.MaxHeaderSize+w.n == len(*w.buf) {
			if err := w.flush(false); err != nil {
				return total - len(p), err
			}
		}
	}
	return total, nil
}

// writeCompressed compresses p into the buffer, sending a frame each time
// the buffer fills, and keeps room for the flush that ends the message.
func (w *MessageWriter) writeCompressed(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := min(len(p), maxDeflateInput(w.room()-deflateFlushRoom))
		if k <= 0 {
			if err := w.flush(false); err != nil {
				return total - len(p), err
			}
			continue
		}
		w.n += len(w.enc.Append(w.tail(), p[:k], false))
		p = p[k:]
	}
	return total, nil
}

// deflateFlushRoom is more than a sync flush appends: the end of the block,
// an empty stored block and the byte that aligns it.
const deflateFlushRoom = 16

// room is the free space in the buffer, which it borrows if it has none.
func (w *MessageWriter) room() int {
	if w.buf == nil {
		w.buf = w.c.wpool.Get().(*[]byte)
	}
	return len(*w.buf) - frame.MaxHeaderSize - w.n
}

// tail is the empty slice where the next output goes.
func (w *MessageWriter) tail() []byte {
	end := frame.MaxHeaderSize + w.n
	return (*w.buf)[end:end]
}

// syncFlush ends the compressor's output at a point where the peer can
// inflate everything written so far (RFC 7692 §7.2.1).
func (w *MessageWriter) syncFlush() error {
	if w.room() < deflateFlushRoom {
		if err := w.flush(false); err != nil {
			return err
		}
	}
	w.n += len(w.enc.Append(w.tail(), nil, true))
	return nil
}

// Flush sends what is buffered as a frame that does not end the message
// (with compression, after flushing the compressor).
func (w *MessageWriter) Flush() error {
	if !w.open {
		return ErrWriterClosed
	}
	if w.enc != nil {
		if err := w.syncFlush(); err != nil {
			return err
		}
	}
	if w.n == 0 {
		return nil
	}
	return w.flush(false)
}

// Close sends the final frame of the message and lets the next message go.
// Closing twice returns ErrWriterClosed.
func (w *MessageWriter) Close() error {
	if !w.open {
		return ErrWriterClosed
	}
	var err error
	if w.enc != nil {
		if err = w.syncFlush(); err == nil {
			w.n -= len(deflateTail)
		}
		w.c.compress.doneEncoding(w.enc)
		w.enc = nil
	}
	if err == nil {
		err = w.flush(true)
	}
	if w.buf != nil {
		w.c.wpool.Put(w.buf)
		w.buf = nil
	}
	w.open = false
	w.c.unlockWrite()
	return err
}

func (w *MessageWriter) flush(fin bool) error {
	c := w.c
	if w.buf == nil {
		w.buf = c.wpool.Get().(*[]byte)
	}
	err := w.send(func() error { return c.writeOwned(w.op, fin, w.rsv1, *w.buf, w.n) })
	w.rsv1 = false
	w.op = frame.OpContinuation
	w.n = 0
	return err
}

// send writes a frame of the message under its context; any failure tears
// the connection down.
func (w *MessageWriter) send(write func() error) error {
	stop, err := w.c.watch(w.ctx)
	if err == nil {
		err = w.c.settle(w.ctx, stop, write())
	}
	if err != nil {
		return w.c.teardown(&CloseError{Code: frame.CloseAbnormalClosure, Err: err})
	}
	return nil
}

// Pong sends an unsolicited pong, a heartbeat the peer does not answer
// (RFC 6455 §5.5.3). Pings are answered without it.
func (c *Conn) Pong(ctx context.Context, payload []byte) error {
	return c.control(ctx, frame.OpPong, payload)
}

func (c *Conn) control(ctx context.Context, op frame.Opcode, payload []byte) error {
	if len(payload) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	stop, err := c.watch(ctx)
	if err != nil {
		return err
	}
	return c.settle(ctx, stop, c.writeControl(op, payload))
}

func (c *Conn) lockWrite(ctx context.Context) error {
	if c.writeLock.mu.TryLock() {
		return nil
	}
	for {
		wake := c.writeLock.waiters.wait()
		if c.writeLock.mu.TryLock() {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return c.teardown(contextClosed(ctx))
		case <-c.closed.done():
			return c.finalErr()
		}
	}
}

func (c *Conn) unlockWrite() { c.writeLock.unlock() }

// writeLock is held by the writer of a message. Writers that find it taken
// wait for its release, then race for it again.
type writeLock struct {
	mu      sync.Mutex
	waiters wakeList
}

func (l *writeLock) unlock() {
	l.mu.Unlock()
	l.waiters.wakeAll()
}

// writeControl sends a control frame; len(payload) <= 125.
func (c *Conn) writeControl(op frame.Opcode, payload []byte) error {
	b := c.wpool.Get().(*[]byte)
	n := copy((*b)[frame.MaxHeaderSize:], payload)
	err := c.writeOwned(op, true, false, *b, n)
	c.wpool.Put(b)
	return err
}

// answerPing sends the pong for a ping (RFC 6455 §5.5.2) without ever
// waiting for a frame another goroutine is writing, which could be stuck on
// a peer that does not read: if one is going out, the pong is left for its
// writer to send (unlockFrame). Only the latest unanswered ping is
// answered, as §5.5.3 allows.
func (c *Conn) answerPing(payload []byte) error {
	p := c.pong.Load()
	if p == nil {
		p = new(pendingPong) // only the reader stores it
		c.pong.Store(p)
	}
	p.mu.Lock()
	p.n = copy(p.buf[:], payload)
	p.pending = true
	p.mu.Unlock()
	if !c.frameMu.TryLock() {
		return nil
	}
	return c.unlockFrame(nil)
}

// pendingPong holds the payload of the latest ping not yet answered.
type pendingPong struct {
	mu      sync.Mutex
	pending bool
	n       int
	buf     [frame.MaxControlPayload]byte
}

// take moves a pending pong's payload behind the header room of a pooled
// buffer, or returns nil if none is pending.
func (p *pendingPong) take(pool *sync.Pool) (b *[]byte, n int) {
	p.mu.Lock()
	if p.pending {
		p.pending = false
		b = pool.Get().(*[]byte)
		n = copy((*b)[frame.MaxHeaderSize:], p.buf[:p.n])
	}
	p.mu.Unlock()
	return b, n
}

func (p *pendingPong) isPending() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending
}

// unlockFrame sends a pending pong, then releases frameMu; it looks once
// more after letting go, for a pong left while it held the lock. It returns
// err, or the pong's write error.
func (c *Conn) unlockFrame(err error) error {
	for {
		if p := c.pong.Load(); p != nil {
			if b, n := p.take(c.wpool); b != nil {
				if perr := c.writeOwnedLocked(frame.OpPong, true, false, *b, n); perr != nil && err == nil && perr != ErrClosed {
					err = perr
				}
				c.wpool.Put(b)
			}
		}
		c.frameMu.Unlock()
		if p := c.pong.Load(); p == nil || !p.isPending() || !c.frameMu.TryLock() {
			return err
		}
	}
}

// writeOwned sends one frame whose payload is b[MaxHeaderSize:MaxHeaderSize+n]
// of a buffer the connection owns: the header goes in front of it and a
// client masks it in place, so the frame leaves in one write.
func (c *Conn) writeOwned(op frame.Opcode, fin, rsv1 bool, b []byte, n int) error {
	c.frameMu.Lock()
	return c.unlockFrame(c.writeOwnedLocked(op, fin, rsv1, b, n))
}

// writeOwnedLocked is writeOwned with frameMu held. Once our close frame is
// out, nothing more is sent (RFC 6455 §5.5.1) and it returns ErrClosed.
func (c *Conn) writeOwnedLocked(op frame.Opcode, fin, rsv1 bool, b []byte, n int) error {
	if c.closeSent {
		return c.sentCloseErr()
	}
	start := c.encodeFrame(op, fin, rsv1, b, n)
	if op == frame.OpClose {
		c.closeSent = true
	}
	_, err := c.nc.Write(b[start : frame.MaxHeaderSize+n])
	return c.finishWrite(err)
}

// encodeFrame puts the header in front of the payload in
// b[MaxHeaderSize:MaxHeaderSize+n] and masks it for a client; the frame
// starts at the index it returns. It is kept out of line so that its frame
// is off the stack before the network write (see writeData): merged into
// its caller, it made every connection that had written once keep a stack
// twice as large (BenchmarkIdleConn/ws-echoed: 5.6 KB per idle connection
// instead of 3.6). The compiler does not inline it today (it is too
// large); the directive keeps it so.
//
//go:noinline
func (c *Conn) encodeFrame(op frame.Opcode, fin, rsv1 bool, b []byte, n int) int {
	h := c.header(op, fin, n)
	h.Rsv1 = rsv1
	start := frame.MaxHeaderSize - h.Size()
	frame.AppendHeader(b[start:start], h)
	if h.Masked {
		frame.Mask(h.Mask, 0, b[frame.MaxHeaderSize:frame.MaxHeaderSize+n])
	}
	return start
}

// writeData sends one data frame whose payload p belongs to the caller. A
// small payload is copied behind its header into a pooled buffer.
//
// The write path is kept shallow (no defers, the large case apart): a
// goroutine's stack grows to fit its deepest call and never shrinks back
// while it waits, so depth here is memory held by every idle connection.
func (c *Conn) writeData(op frame.Opcode, fin bool, p []byte) error {
	if len(p) > c.wsize-frame.MaxHeaderSize {
		return c.writeLarge(op, fin, p)
	}
	b := c.wpool.Get().(*[]byte)
	n := copy((*b)[frame.MaxHeaderSize:], p)
	err := c.writeOwned(op, fin, false, *b, n)
	c.wpool.Put(b)
	return err
}

// writeLarge sends a data frame larger than a buffer: a server sends it with
// its header in one vectored write, without a copy; a client masks it
// through a pooled buffer, piece by piece.
func (c *Conn) writeLarge(op frame.Opcode, fin bool, p []byte) error {
	b := c.wpool.Get().(*[]byte)
	defer c.wpool.Put(b)
	c.frameMu.Lock()
	return c.unlockFrame(c.writeLargeLocked(op, fin, p, *b))
}

func (c *Conn) writeLargeLocked(op frame.Opcode, fin bool, p, buf []byte) error {
	if c.closeSent {
		return c.sentCloseErr()
	}
	h := c.header(op, fin, len(p))
	buf = frame.AppendHeader(buf[:0], h)
	if !h.Masked {
		v := vectorPool.Get().(*vector)
		v.iov = [2][]byte{buf, p}
		v.bufs = v.iov[:]
		_, err := v.bufs.WriteTo(c.nc)
		v.iov = [2][]byte{}
		vectorPool.Put(v)
		return c.finishWrite(err)
	}
	pos := 0
	for len(p) > 0 {
		k := min(len(p), cap(buf)-len(buf))
		pos = frame.MaskCopy(buf[len(buf):len(buf)+k], p[:k], h.Mask, pos)
		if err := c.netWrite(buf[:len(buf)+k]); err != nil {
			return err
		}
		p = p[k:]
		buf = buf[:0]
	}
	return nil
}

func (c *Conn) header(op frame.Opcode, fin bool, n int) frame.Header {
	h := frame.Header{Fin: fin, Opcode: op, Length: int64(n)}
	if k := c.keys; k != nil {
		h.Masked = true
		if k.pos == len(k.buf) {
			rand.Read(k.buf[:])
			k.pos = 0
		}
		copy(h.Mask[:], k.buf[k.pos:])
		k.pos += 4
	}
	return h
}

// maskKeys are a client's masking keys, drawn from crypto/rand in a batch.
type maskKeys struct {
	buf [64]byte
	pos int
}

// vector is the scratch of a vectored write: header and payload. It is
// pooled rather than kept in each Conn, which it would make larger for
// the sake of large writes alone.
type vector struct {
	iov  [2][]byte
	bufs net.Buffers
}

var vectorPool = sync.Pool{New: func() any { return new(vector) }}

func (c *Conn) netWrite(b []byte) error {
	_, err := c.nc.Write(b)
	return c.finishWrite(err)
}

// finishWrite turns a failed write into the connection's end: a frame cut
// short leaves the stream unusable.
func (c *Conn) finishWrite(err error) error {
	if err == nil {
		return nil
	}
	return c.teardown(&CloseError{Code: frame.CloseAbnormalClosure, Err: err})
}
