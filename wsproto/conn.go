//go:build !js

package wsproto

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/db7c6739/ws/internal/utf8valid"
)

// inlineSize is the size of the buffer every connection owns for reads at a
// message boundary. It holds a whole small message, so that an idle read
// pins no pooled buffer and a small message costs one system call.
const inlineSize = 256

// minBufferSize is the smallest buffer size an option can ask for: a pooled
// read buffer must take over a full inline one with room to spare.
const minBufferSize = 2 * inlineSize

// Conn is a WebSocket connection (RFC 6455), the server or the client end.
//
// One goroutine may read at a time; any number may write at once. See the
// package documentation for concurrency, closing and limits.
type Conn struct {
	nc           net.Conn
	subprotocol  string
	closeTimeout time.Duration
	client       bool

	// Reading: owned by the goroutine that holds readLock.
	readLock   readLock
	rd         readBuffer
	readLimit  int64
	frameLeft  int64 // payload bytes of the current frame not yet read
	fin        bool  // the current frame ends its message
	masked     bool
	mask       [4]byte
	inMessage  bool // a data message has begun and not ended
	msgType    MessageType
	maskPos    int
	msgSize    int64
	text       utf8valid.Stream
	gotClose   bool           // the peer's close frame arrived, valid or not
	closeDue   bool           // it was valid, and answerClose has yet to answer it
	compressed bool           // the message being read is (RSV1 on its first frame)
	closeSent  bool           // our close frame went out; under frameMu, with the writing
	readErr    error          // sticky: once set, every read returns it
	reader     *messageReader // NextReader's, until the next message is asked for
	compress   *compression   // nil unless permessage-deflate was agreed
	handlers   atomic.Pointer[controlHandlers]
	inHandler  atomic.Bool        // the reader is in a ping or pong handler
	grown      weak.Pointer[byte] // the last message buffer a read allocated (see awaitData)

	// Writing: writeLock is held for a whole message, frameMu for a frame,
	// so control frames go out between the frames of a streamed message.
	writeLock writeLock
	frameMu   sync.Mutex
	wpool     *sync.Pool
	wsize     int
	keys      *maskKeys // a client's; nil for a server, which does not mask

	// A pong the reader could not send because a frame was going out; the
	// writer holding frameMu sends it before letting go (see unlockFrame).
	// Made at the first such ping.
	pong atomic.Pointer[pendingPong]

	// Pings waiting for their pongs, and the heartbeat: made at the first
	// ping, or with the Conn if the heartbeat is on.
	live atomic.Pointer[liveness]

	// Closing.
	closeOnce sync.Once
	closing   atomic.Bool // Close is running: reads wait for its end
	closed    signal      // fired once the TCP connection is closed
	peerClose signal      // fired once the peer's close frame arrived
	closeMu   sync.Mutex
	closeErr  error // why the connection ended; returned by later calls
}

// connConfig is what both roles share when a Conn is made.
type connConfig struct {
	readLimit    int64
	readBuffer   int
	writeBuffer  int
	closeTimeout time.Duration
	pingInterval time.Duration
	pingTimeout  time.Duration
}

func newConn(nc net.Conn, client bool, subprotocol string, cfg connConfig, buffered []byte, z *compression) *Conn {
	if cfg.readLimit == 0 {
		cfg.readLimit = DefaultReadLimit
	}
	if cfg.readBuffer <= 0 {
		cfg.readBuffer = DefaultBufferSize
	}
	if cfg.writeBuffer <= 0 {
		cfg.writeBuffer = DefaultBufferSize
	}
	cfg.readBuffer = max(cfg.readBuffer, minBufferSize)
	cfg.writeBuffer = max(cfg.writeBuffer, minBufferSize)
	if cfg.closeTimeout <= 0 {
		cfg.closeTimeout = DefaultCloseTimeout
	}
	c := &Conn{
		nc:           nc,
		client:       client,
		subprotocol:  subprotocol,
		closeTimeout: cfg.closeTimeout,
		readLimit:    cfg.readLimit,
		wpool:        poolFor(cfg.writeBuffer),
		wsize:        cfg.writeBuffer,
	}
	if client {
		c.keys = &maskKeys{pos: len(maskKeys{}.buf)}
	}
	c.rd.init(nc, cfg.readBuffer, buffered)
	if z != nil {
		z.source.c = c
		c.compress = z
	}
	c.startHeartbeat(cfg.pingInterval, cfg.pingTimeout)
	return c
}

// Subprotocol returns the subprotocol agreed in the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// NetConn returns the underlying connection, for deadlines
// (SetReadDeadline, SetWriteDeadline). Reading or writing it directly
// corrupts the WebSocket stream.
func (c *Conn) NetConn() net.Conn { return c.nc }

// SetReadLimit sets the largest message, in bytes, that reads accept; a
// larger one fails the connection with close 1009 and ErrMessageTooBig.
// A limit of 0 or less removes it. Call it from the reading goroutine.
func (c *Conn) SetReadLimit(n int64) { c.readLimit = n }

// SetPingHandler sets a function called with the payload of each ping, after
// the pong answering it was sent (or left for the writer of a frame going
// out at that moment to send). It runs on the goroutine reading c when the
// ping arrives: a read's, or that of Ping or the heartbeat when they read
// for a pong (never two at once). It must not read from c; it may write,
// and Close. The payload is valid only during the call. It may be set at
// any time.
func (c *Conn) SetPingHandler(h func(payload []byte)) {
	c.setHandlers(func(hs *controlHandlers) { hs.ping = h })
}

// SetPongHandler sets a function called with the payload of each pong, on
// the terms of SetPingHandler.
func (c *Conn) SetPongHandler(h func(payload []byte)) {
	c.setHandlers(func(hs *controlHandlers) { hs.pong = h })
}

// controlHandlers are the functions set by SetPingHandler and
// SetPongHandler, replaced whole when either changes.
type controlHandlers struct {
	ping, pong func(payload []byte)
}

func (c *Conn) setHandlers(change func(*controlHandlers)) {
	for {
		old := c.handlers.Load()
		hs := new(controlHandlers)
		if old != nil {
			*hs = *old
		}
		change(hs)
		if c.handlers.CompareAndSwap(old, hs) {
			return
		}
	}
}
