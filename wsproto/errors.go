package wsproto

import (
	"errors"
	"strconv"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
)

// Sentinel errors, matched with errors.Is. The protocol violations among them
// arrive wrapped in a *ProtocolError that says which close code was sent.
var (
	// ErrClosed is returned by calls on a connection after its closing
	// handshake, or after it was torn down. A *CloseError matches it too.
	ErrClosed = errors.New("wsproto: connection closed")
	// ErrConcurrentRead is returned when a read starts while another is in
	// progress: a connection has one reader at a time.
	ErrConcurrentRead = errors.New("wsproto: concurrent read on one connection")
	// ErrWriterClosed is returned by writes on a message writer after Close.
	ErrWriterClosed = errors.New("wsproto: write on a closed message writer")
	// ErrStaleReader is returned by reads from a reader of NextReader once
	// the next message was asked for, with NextReader or ReadMessage.
	ErrStaleReader = errors.New("wsproto: read from the reader of an earlier message")
	// ErrBadMessageType is returned for a write whose type is not MessageText
	// or MessageBinary.
	ErrBadMessageType = errors.New("wsproto: message type must be text or binary")

	ErrMessageTooBig          = errors.New("wsproto: message exceeds the read limit")
	ErrInvalidUTF8            = errors.New("wsproto: text message is not valid UTF-8")
	ErrReservedBits           = errors.New("wsproto: reserved bits set without a negotiated extension")
	ErrUnexpectedContinuation = errors.New("wsproto: continuation frame without a message to continue")
	ErrExpectedContinuation   = errors.New("wsproto: new data frame inside a fragmented message")
	ErrUnmaskedFrame          = errors.New("wsproto: unmasked frame from a client")
	ErrMaskedFrame            = errors.New("wsproto: masked frame from a server")
	ErrInvalidDeflate         = errors.New("wsproto: compressed message is not valid deflate data")
)

// Errors of the wire format, the very values package frame returns, so that
// both packages give one name one meaning. A read that fails on one of them
// wraps it in a *ProtocolError; Close returns the close-payload ones as
// they are, having sent nothing.
var (
	// ErrControlTooLong: a control frame's payload over 125 bytes, whether
	// the peer sent it or Ping or Pong was asked to.
	ErrControlTooLong     = frame.ErrControlTooLong
	ErrReservedOpcode     = frame.ErrReservedOpcode
	ErrFragmentedControl  = frame.ErrFragmentedControl
	ErrLengthOverflow     = frame.ErrLengthOverflow
	ErrCloseTooShort      = frame.ErrCloseTooShort
	ErrInvalidCloseCode   = frame.ErrInvalidCloseCode
	ErrInvalidCloseReason = frame.ErrInvalidCloseReason
	ErrCloseReasonTooLong = frame.ErrCloseReasonTooLong
)

// HandshakeError is a refused handshake: the *handshake.Error that Upgrade
// and UpgradeConn return for a bad request (with the HTTP status they
// answered), and Dial for a response that refuses or breaks the upgrade
// (with the status received).
type HandshakeError = handshake.Error

// ProtocolError reports that the peer broke RFC 6455 and that the connection
// was failed: Code is the close code sent to the peer and Err the cause, one
// of this package's sentinel errors. (In a browser, which may not send
// 1009, a message over the read limit gives Code 1009 while the close frame
// carries 4009.)
type ProtocolError struct {
	Code CloseCode
	Err  error
}

func (e *ProtocolError) Error() string {
	return "wsproto: connection failed with close " + strconv.Itoa(int(e.Code)) + ": " + e.Err.Error()
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// Is makes every *ProtocolError match ErrClosed: the connection it reports
// is closed.
func (e *ProtocolError) Is(target error) bool { return target == ErrClosed }

// CloseError is the close status of a connection whose closing handshake
// took place, as the peer sent it, or, with Code CloseAbnormalClosure
// (1006), of a connection that was lost without one; Err then holds the
// I/O error, or the error of the context that ended it.
type CloseError struct {
	Code   CloseCode
	Reason string
	Err    error
}

func (e *CloseError) Error() string {
	s := "wsproto: closed with " + strconv.Itoa(int(e.Code)) + " (" + e.Code.String() + ")"
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes every *CloseError match ErrClosed.
func (e *CloseError) Is(target error) bool { return target == ErrClosed }

func (e *CloseError) Unwrap() error { return e.Err }

// CloseStatus returns the close code in err if err is or wraps a *CloseError
// or a *ProtocolError, and 0 otherwise.
func CloseStatus(err error) CloseCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}
