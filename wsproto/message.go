package wsproto

import (
	"time"

	"github.com/db7c6739/ws/frame"
)

// MessageType is the type of a data message: text or binary.
type MessageType byte

// The message types (RFC 6455 §5.6).
const (
	MessageText   = MessageType(frame.OpText)
	MessageBinary = MessageType(frame.OpBinary)
)

func (t MessageType) String() string { return frame.Opcode(t).String() }

// Defaults used when an option is left at its zero value.
const (
	// DefaultReadLimit is the largest message a connection accepts unless
	// told otherwise: 32 MiB, counted after decompression.
	DefaultReadLimit = 32 << 20
	// DefaultBufferSize is the size of the read and write buffers lent to a
	// connection while it is busy.
	DefaultBufferSize = 4096
	// DefaultHandshakeTimeout bounds the opening handshake.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultCloseTimeout bounds the wait for the peer's part of the
	// closing handshake.
	DefaultCloseTimeout = 5 * time.Second
)
