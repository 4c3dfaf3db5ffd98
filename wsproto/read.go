//go:build !js

package wsproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"unsafe"
	"weak"

	"github.com/db7c6739/ws/frame"
)

// ReadMessage reads the next data message whole, appending it to dst[:0] and
// returning the extended slice: pass the previous result back in to read
// without allocating. While it waits for a message to begin, it holds a dst
// larger than the read buffer only weakly, so that an idle connection does
// not keep the largest message it ever read; if the garbage collector takes
// dst meanwhile, the message goes into a new slice. Control frames that arrive first are handled on the
// way (pings answered, pongs passed to the pong handler, a close answered).
//
// It blocks until a message arrives, ctx is done or a deadline set on
// NetConn passes; cancellation and deadlines tear the connection down. A
// close from the peer returns a *CloseError; a protocol violation by the peer
// fails the connection and returns a *ProtocolError. Once a read has failed,
// every later read returns the same error.
func (c *Conn) ReadMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	stop, err := c.beginRead(ctx)
	if err != nil {
		return 0, dst[:0], err
	}
	c.reader = nil
	typ, msg := MessageType(0), dst[:0]
	if err = c.awaitData(&msg); err == nil {
		typ, msg, err = c.readMessage(msg)
	}
	return typ, msg, c.endRead(ctx, stop, err)
}

// awaitData waits at a message boundary for the next bytes, from as shallow
// a call depth as it can: a goroutine's stack grows to fit its deepest call
// and stays grown while the connection idles, so every frame between here
// and the network counts in the memory of an idle connection.
//
// While it waits, it holds *dst only weakly if that is the buffer the last
// read allocated and larger than a read buffer: the documented read loop
// passes each message back in, and an idle connection would otherwise keep
// its largest message for life. If the garbage collector took the buffer
// meanwhile, *dst comes back nil. (A buffer of the caller's own, which may
// not even be Go memory, is held as it is.)
func (c *Conn) awaitData(dst *[]byte) error {
	if c.inMessage || c.rd.r != c.rd.w {
		return nil
	}
	var err error
	if size := cap(*dst); size > int(c.rd.size) && c.grown.Value() == unsafe.SliceData(*dst) {
		keep := c.grown
		*dst = nil
		err = c.rd.readMore()
		if p := keep.Value(); p != nil {
			*dst = unsafe.Slice(p, size)[:0]
		}
	} else {
		err = c.rd.readMore()
	}
	if err != nil {
		return c.readFailed(err)
	}
	return nil
}

func (c *Conn) readMessage(dst []byte) (MessageType, []byte, error) {
	if err := c.skipMessage(); err != nil {
		return 0, dst, err
	}
	if err := c.nextDataFrame(); err != nil {
		return 0, dst, err
	}
	if c.compressed {
		return c.readCompressed(dst)
	}
	for {
		for c.frameLeft > 0 {
			if len(dst) == cap(dst) {
				dst = c.grow(dst, c.frameLeft)
			}
			room := dst[len(dst):cap(dst)]
			if int64(len(room)) > c.frameLeft {
				room = room[:c.frameLeft]
			}
			n, err := c.readPayload(room)
			dst = dst[:len(dst)+n]
			if err != nil {
				return 0, dst, err
			}
		}
		if c.fin {
			if err := c.endMessage(); err != nil {
				return 0, dst, err
			}
			return c.msgType, dst, nil
		}
		if err := c.nextDataFrame(); err != nil {
			return 0, dst, err
		}
	}
}

// grow makes room in dst for a frame with left bytes still to come, at most
// doubling it (from 64 KiB at least): room follows the bytes that arrive, so
// that a length on the wire alone cannot make a connection allocate much.
func (c *Conn) grow(dst []byte, left int64) []byte {
	return c.grewTo(growMessage(dst, int(min(left, max(int64(cap(dst)), 64<<10)))))
}

// grewTo remembers, weakly, a message buffer a read allocated, so that
// awaitData knows it for one of its own.
func (c *Conn) grewTo(b []byte) []byte {
	if cap(b) > int(c.rd.size) {
		c.grown = weak.Make(unsafe.SliceData(b))
	}
	return b
}

// NextReader waits for the next data message and returns its type and a
// reader of its payload, which returns io.EOF at the end of the message.
// Reads from it use ctx. The reader is valid until the next call to
// NextReader or ReadMessage, which first discards what is left of it;
// after that it returns ErrStaleReader. Errors are those of ReadMessage.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	stop, err := c.beginRead(ctx)
	if err != nil {
		return 0, nil, err
	}
	c.reader = nil
	var none []byte
	err = c.awaitData(&none)
	if err == nil {
		err = c.skipMessage()
	}
	if err == nil {
		err = c.nextDataFrame()
	}
	typ := c.msgType
	var r *messageReader
	if err == nil {
		r = &messageReader{c: c, ctx: ctx}
		c.reader = r
	}
	if err = c.endRead(ctx, stop, err); err != nil {
		return 0, nil, err
	}
	return typ, r, nil
}

// messageReader is the reader NextReader returns, one per message.
type messageReader struct {
	c    *Conn
	ctx  context.Context
	done bool
}

func (r *messageReader) Read(p []byte) (int, error) {
	c := r.c
	stop, err := c.beginRead(r.ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	if c.reader != r {
		err = ErrStaleReader
	} else {
		n, err = r.read(p)
	}
	return n, c.endRead(r.ctx, stop, err)
}

func (r *messageReader) read(p []byte) (int, error) {
	c := r.c
	if r.done {
		return 0, io.EOF
	}
	if c.compressed {
		if len(p) == 0 {
			return 0, nil
		}
		n, err := c.readInflated(p)
		if err == io.EOF {
			r.done = true
		}
		return n, err
	}
	for c.frameLeft == 0 {
		if c.fin {
			r.done = true
			if err := c.endMessage(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		if err := c.nextDataFrame(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > c.frameLeft {
		p = p[:c.frameLeft]
	}
	return c.readPayload(p)
}

// skipMessage discards what is left of a message a reader gave up on.
func (c *Conn) skipMessage() error {
	if !c.inMessage {
		return nil
	}
	if c.compressed {
		// Inflate the rest: under context takeover, later messages refer
		// to it.
		scratch := c.rd.pool.Get().(*[]byte)
		defer c.rd.pool.Put(scratch)
		for {
			if _, err := c.readInflated(*scratch); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
	for {
		if err := c.rd.skip(c.frameLeft); err != nil {
			return c.readFailed(err)
		}
		c.frameLeft = 0
		if c.fin {
			return c.endMessage()
		}
		if err := c.nextDataFrame(); err != nil {
			return err
		}
	}
}

// readLock is held by whoever reads the connection: a user's read for the
// length of the call, Close while it waits for the peer's close frame, and
// Ping and the heartbeat, when no one else reads, while they read control
// frames (readControl). A user's read that finds Ping or the heartbeat
// reading waits for it; one that finds another user's read fails.
type readLock struct {
	// The holder (lockFree, lockUser or lockInternal) in the low bits,
	// and above them a count of releases, which Ping uses to tell whether
	// a read ended while it looked away: one word, so that a release costs
	// one atomic store, as a bare flag would.
	state   atomic.Uint32
	waiters wakeList
}

const (
	lockFree = iota
	lockUser
	lockInternal

	lockKinds = 3 // mask of the holder's bits
	lockGen   = 4 // one release
)

func (l *readLock) tryLock(kind uint32) bool {
	s := l.state.Load()
	return s&lockKinds == lockFree && l.state.CompareAndSwap(s, s|kind)
}

// holder returns lockFree, lockUser or lockInternal.
func (l *readLock) holder() uint32 { return l.state.Load() & lockKinds }

func (l *readLock) held() bool { return l.holder() != lockFree }

// gen counts the releases so far.
func (l *readLock) gen() uint32 { return l.state.Load() &^ lockKinds }

func (l *readLock) unlock() {
	l.state.Store(l.gen() + lockGen)
	l.waiters.wakeAll()
}

func (c *Conn) beginRead(ctx context.Context) (stop func() bool, err error) {
	for !c.readLock.tryLock(lockUser) {
		switch c.readLock.holder() {
		case lockFree:
			continue
		case lockUser:
			if c.closing.Load() {
				// Close is reading for the peer's close frame: wait
				// for it.
				<-c.closed.done()
				return nil, c.finalErr()
			}
			return nil, ErrConcurrentRead
		}
		wake := c.readLock.waiters.wait()
		if c.readLock.holder() != lockInternal {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, c.teardown(contextClosed(ctx))
		case <-c.closed.done():
			return nil, c.finalErr()
		}
	}
	if c.readErr != nil {
		c.readLock.unlock()
		return nil, c.readErr
	}
	if stop, err = c.watch(ctx); err != nil {
		c.readLock.unlock()
	}
	return stop, err
}

func (c *Conn) endRead(ctx context.Context, stop func() bool, err error) error {
	if c.closeDue {
		err = c.answerClose()
	}
	err = c.settle(ctx, stop, err)
	c.readLock.unlock()
	return err
}

// nextDataFrame reads frame headers until that of a data frame, handling the
// control frames before it, checks it against the message in progress and
// makes it current.
func (c *Conn) nextDataFrame() error {
	for {
		// peekHeader, inline: this is the path of every message.
		rd := &c.rd
		if err := rd.fill(frame.MinHeaderSize); err != nil {
			return c.readFailed(err)
		}
		size := frame.HeaderSize(rd.buf[rd.r+1])
		if err := rd.fill(size); err != nil {
			return c.readFailed(err)
		}
		h, _, err := frame.ParseHeader(rd.buf[rd.r:rd.w])
		if err != nil {
			var ve *frame.ViolationError
			errors.As(err, &ve)
			return c.fail(ve.Code, err)
		}
		rd.r += size
		c.frameLeft = h.Length // so that failing skips the payload
		if cause := c.headerFault(h); cause != nil {
			return c.fail(frame.CloseProtocolError, cause)
		}
		if h.Opcode.IsControl() {
			c.frameLeft = 0
			if err := c.handleControl(h); err != nil {
				return err
			}
			continue
		}
		if h.Opcode == frame.OpContinuation {
			if !c.inMessage {
				return c.fail(frame.CloseProtocolError, ErrUnexpectedContinuation)
			}
		} else {
			if c.inMessage {
				return c.fail(frame.CloseProtocolError, ErrExpectedContinuation)
			}
			c.inMessage = true
			c.msgType = MessageType(h.Opcode)
			c.msgSize = 0
			c.text.Reset()
			c.compressed = h.Rsv1
		}
		if c.readLimit > 0 && h.Length > c.readLimit-c.msgSize {
			return c.fail(frame.CloseMessageTooBig, ErrMessageTooBig)
		}
		c.msgSize += h.Length
		c.frameLeft = h.Length
		c.fin = h.Fin
		c.masked = h.Masked
		c.mask = h.Mask
		c.maskPos = 0
		return nil
	}
}

// peekHeader reads until the next frame header is buffered, and returns it
// and its size, checked, without taking it from the buffer. A header the
// connection must refuse fails it.
func (c *Conn) peekHeader() (frame.Header, int, error) {
	rd := &c.rd
	if err := rd.fill(frame.MinHeaderSize); err != nil {
		return frame.Header{}, 0, c.readFailed(err)
	}
	size := frame.HeaderSize(rd.buf[rd.r+1])
	if err := rd.fill(size); err != nil {
		return frame.Header{}, 0, c.readFailed(err)
	}
	h, _, err := frame.ParseHeader(rd.buf[rd.r:rd.w])
	if err != nil {
		var ve *frame.ViolationError
		errors.As(err, &ve)
		return h, 0, c.fail(ve.Code, err)
	}
	if cause := c.headerFault(h); cause != nil {
		rd.r += size
		c.frameLeft = h.Length // so that failing skips the payload
		return h, 0, c.fail(frame.CloseProtocolError, cause)
	}
	return h, size, nil
}

// headerFault returns why the connection must refuse a frame with header h,
// or nil.
func (c *Conn) headerFault(h frame.Header) error {
	// RSV1 marks the first frame of a compressed message, and only that,
	// once permessage-deflate was agreed (RFC 7692 §6).
	rsv1OK := h.Rsv1 && c.compress != nil && (h.Opcode == frame.OpText || h.Opcode == frame.OpBinary)
	switch {
	case h.Rsv1 && !rsv1OK, h.Rsv2, h.Rsv3:
		return ErrReservedBits
	case c.client && h.Masked:
		return ErrMaskedFrame
	case !c.client && !h.Masked:
		return ErrUnmaskedFrame
	}
	return nil
}

// readPayload reads part of the current frame's payload into p
// (len(p) <= c.frameLeft), unmasks it and checks text as it arrives.
func (c *Conn) readPayload(p []byte) (int, error) {
	var n int
	var err error
	if rd := &c.rd; c.masked && rd.r != rd.w {
		// Unmask what is buffered as it is copied out: one pass.
		n = min(len(p), rd.w-rd.r)
		c.maskPos = frame.MaskCopy(p, rd.buf[rd.r:rd.r+n], c.mask, c.maskPos)
		rd.r += n
	} else if n, err = rd.read(p); n > 0 && c.masked {
		c.maskPos = frame.Mask(c.mask, c.maskPos, p[:n])
	}
	if n > 0 {
		p = p[:n]
		c.frameLeft -= int64(n)
		if c.msgType == MessageText && !c.compressed && !c.text.Write(p) {
			return n, c.fail(frame.CloseInvalidFramePayloadData, ErrInvalidUTF8)
		}
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // within a frame
		}
		return n, c.readFailed(err)
	}
	return n, nil
}

// endMessage is called when the final frame of a message has been read.
func (c *Conn) endMessage() error {
	c.inMessage = false
	if c.msgType == MessageText && !c.text.Complete() {
		return c.fail(frame.CloseInvalidFramePayloadData, ErrInvalidUTF8)
	}
	c.rd.idle()
	return nil
}

// handleControl reads and acts on a control frame whose header was read.
func (c *Conn) handleControl(h frame.Header) error {
	rd := &c.rd
	n := int(h.Length)
	if err := rd.fill(n); err != nil {
		return c.readFailed(err)
	}
	payload := rd.buf[rd.r : rd.r+n]
	rd.r += n
	if h.Masked {
		frame.Mask(h.Mask, 0, payload)
	}
	switch h.Opcode {
	case frame.OpPing:
		// A pong that cannot go out (our close was sent, or the network
		// failed) is no reason to stop reading: the read that follows
		// reports what became of the connection.
		_ = c.answerPing(payload)
		if hs := c.handlers.Load(); hs != nil && hs.ping != nil {
			if err := c.runHandler(hs.ping, payload); err != nil {
				return err
			}
		}
	case frame.OpPong:
		c.pongArrived(payload)
		if hs := c.handlers.Load(); hs != nil && hs.pong != nil {
			if err := c.runHandler(hs.pong, payload); err != nil {
				return err
			}
		}
	case frame.OpClose:
		c.gotClose = true
		code, reason, err := frame.ParseClosePayload(payload)
		if err != nil {
			var pe *frame.ViolationError
			errors.As(err, &pe)
			return c.fail(pe.Code, err)
		}
		// Answered by endRead or awaitPeerClose, where the stack is
		// shallow (see answerClose).
		ce := &CloseError{Code: code, Reason: string(reason)}
		c.readErr, c.closeDue = ce, true
		return ce
	}
	if !c.inMessage {
		rd.idle()
	}
	return nil
}

// runHandler calls a ping or pong handler with a copy of the payload. The
// handler may call Close, which cannot wait for this goroutine to read the
// peer's answer: Close then takes the reading over (see Conn.Close), and
// once the handler returns, the read ends with the connection.
func (c *Conn) runHandler(h func(payload []byte), payload []byte) error {
	var own [frame.MaxControlPayload]byte // the reading may move on under the handler
	c.inHandler.Store(true)
	h(own[:copy(own[:], payload)])
	if c.inHandler.CompareAndSwap(true, false) {
		return nil
	}
	// A Close took the reading over: wait until it is done with it.
	l := c.live.Load()
	l.mu.Lock()
	done := l.takeover
	l.mu.Unlock()
	<-done
	return c.finalErr()
}

// readCompressed reads the rest of a compressed message, inflated, into dst.
func (c *Conn) readCompressed(dst []byte) (MessageType, []byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = c.grewTo(growMessage(dst, c.inflateRoom(len(dst))))
		}
		n, err := c.readInflated(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return c.msgType, dst, nil
		}
		if err != nil {
			return 0, dst, err
		}
	}
}

// inflateRoom is how much to grow a buffer of n inflated bytes, all it
// holds: it doubles, but never past the read limit, and goes straight to the
// limit when doubling again would pass it. One byte of room beyond the
// limit is enough to see a message that exceeds it. So what a message
// allocates on its way to the limit sums to less than twice the limit,
// whatever the peer compressed.
func (c *Conn) inflateRoom(n int) int {
	target := int64(max(2*n, 4096))
	if limit := c.readLimit + 1; c.readLimit > 0 && 2*target > limit {
		target = max(limit, int64(n)+1)
	}
	return int(target) - n
}

// readInflated inflates the current compressed message into p, and returns
// io.EOF at its end. Inflated bytes count against the read limit as they
// are produced, and text is checked as it comes out.
func (c *Conn) readInflated(p []byte) (int, error) {
	z := c.compress
	if z.reader == nil {
		z.source.tail, z.source.err = 0, nil
		z.inflated = 0
		z.reader = z.inflater(&z.source)
	}
	n, err := z.reader.Read(p)
	if n > 0 {
		z.inflated += int64(n)
		if c.readLimit > 0 && z.inflated > c.readLimit {
			return n, c.fail(frame.CloseMessageTooBig, ErrMessageTooBig)
		}
		if c.msgType == MessageText && !c.text.Write(p[:n]) {
			return n, c.fail(frame.CloseInvalidFramePayloadData, ErrInvalidUTF8)
		}
		z.remember(p[:n])
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		z.doneInflating(z.reader)
		z.reader = nil
		if err := z.source.discard(); err != nil {
			return n, err
		}
		if err := c.endMessage(); err != nil {
			return n, err
		}
		return n, io.EOF
	case z.source.err != nil:
		return n, z.source.err
	default:
		return n, c.fail(frame.CloseInvalidFramePayloadData, fmt.Errorf("%w: %v", ErrInvalidDeflate, err))
	}
}

// inflateSource feeds the decompressor the payload of a compressed
// message's frames, handling control frames between them, then the
// 00 00 ff ff the sender stripped (RFC 7692 §7.2.2) and an empty final
// block, so that the decompressor ends cleanly at the end of the message.
// Its reads unmask straight out of the connection's read buffer.
type inflateSource struct {
	c    *Conn
	tail int   // bytes of the ending served
	err  error // what stopped reading the connection
}

// more readies payload bytes; it reports false once the message's frames
// are all read.
func (s *inflateSource) more() (bool, error) {
	c := s.c
	for c.frameLeft == 0 {
		if c.fin {
			return false, nil
		}
		if err := c.nextDataFrame(); err != nil {
			s.err = err
			return false, err
		}
	}
	return true, nil
}

func (s *inflateSource) Read(p []byte) (int, error) {
	c := s.c
	ok, err := s.more()
	if err != nil {
		return 0, err
	}
	if !ok {
		if s.tail == len(deflateTailAndFinalEnd) {
			return 0, io.EOF
		}
		n := copy(p, deflateTailAndFinalEnd[s.tail:])
		s.tail += n
		return n, nil
	}
	if int64(len(p)) > c.frameLeft {
		p = p[:c.frameLeft]
	}
	n, err := c.readPayload(p)
	if err != nil {
		s.err = err
	}
	return n, err
}

// discard skips what follows the end of the deflate data in the message:
// a sender may end it with a final block (RFC 7692 §7.2.3.4) and bytes
// after it.
func (s *inflateSource) discard() error {
	c := s.c
	for {
		ok, err := s.more()
		if err != nil || !ok {
			return err
		}
		if err := c.rd.skip(c.frameLeft); err != nil {
			s.err = c.readFailed(err)
			return s.err
		}
		c.frameLeft = 0
	}
}
