package frame

// ViolationError is a violation of RFC 6455 found while decoding. Code is the
// close code the connection should send to the peer in answer.
type ViolationError struct {
	Code   CloseCode
	Reason string
}

func (e *ViolationError) Error() string { return "frame: " + e.Reason }

// Errors returned by the decoders. Each is a *ViolationError, so a caller can
// match one with errors.Is or any of them with errors.As.
var (
	ErrReservedOpcode     = &ViolationError{CloseProtocolError, "reserved opcode"}
	ErrControlTooLong     = &ViolationError{CloseProtocolError, "control frame payload longer than 125 bytes"}
	ErrFragmentedControl  = &ViolationError{CloseProtocolError, "fragmented control frame"}
	ErrLengthOverflow     = &ViolationError{CloseProtocolError, "64-bit payload length with the most significant bit set"}
	ErrCloseTooShort      = &ViolationError{CloseProtocolError, "close payload of 1 byte"}
	ErrInvalidCloseCode   = &ViolationError{CloseProtocolError, "close code not allowed on the wire"}
	ErrInvalidCloseReason = &ViolationError{CloseInvalidFramePayloadData, "close reason is not valid UTF-8"}
)

var (
	// ErrShortHeader is returned by ParseHeader when the slice holds only
	// part of a header; it also reports how many bytes the header needs.
	ErrShortHeader = errorString("frame: incomplete frame header")
	// ErrShortScratch is returned by ReadHeader when its scratch buffer is
	// shorter than MaxHeaderSize.
	ErrShortScratch = errorString("frame: scratch buffer shorter than MaxHeaderSize")
	// ErrCloseReasonTooLong is returned by AppendClosePayload for a reason
	// that does not fit in a control frame (RFC 6455 §5.5).
	ErrCloseReasonTooLong = errorString("frame: close reason longer than 123 bytes")
)

type errorString string

func (e errorString) Error() string { return string(e) }
