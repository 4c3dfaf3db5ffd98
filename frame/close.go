package frame

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// CloseCode is the status code of a close frame (RFC 6455 §7.4).
type CloseCode uint16

// The close codes of RFC 6455 §7.4.1 and the IANA registry (1012–1014).
const (
	CloseNormalClosure           CloseCode = 1000
	CloseGoingAway               CloseCode = 1001
	CloseProtocolError           CloseCode = 1002
	CloseUnsupportedData         CloseCode = 1003
	closeReserved                CloseCode = 1004
	CloseNoStatusReceived        CloseCode = 1005 // never on the wire: the close frame had no payload
	CloseAbnormalClosure         CloseCode = 1006 // never on the wire: the connection dropped without a close frame
	CloseInvalidFramePayloadData CloseCode = 1007
	ClosePolicyViolation         CloseCode = 1008
	CloseMessageTooBig           CloseCode = 1009
	CloseMandatoryExtension      CloseCode = 1010
	CloseInternalServerErr       CloseCode = 1011
	CloseServiceRestart          CloseCode = 1012
	CloseTryAgainLater           CloseCode = 1013
	CloseBadGateway              CloseCode = 1014
	CloseTLSHandshake            CloseCode = 1015 // never on the wire: the TLS handshake failed
)

// MaxCloseReason is the longest close reason that fits in a control frame:
// 125 bytes of payload less the 2-byte code (RFC 6455 §5.5).
const MaxCloseReason = MaxControlPayload - 2

// IsValidOnWire reports whether c may be sent in a close frame (RFC 6455
// §7.4.1, §7.4.2): 1000–1003, 1007–1014 and 3000–4999. 1004–1006, 1015,
// codes below 1000, the unassigned 1016–2999 and 5000 and above are not.
func (c CloseCode) IsValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// String returns the code's name, or its number for codes without one.
func (c CloseCode) String() string {
	switch c {
	case CloseNormalClosure:
		return "normal closure"
	case CloseGoingAway:
		return "going away"
	case CloseProtocolError:
		return "protocol error"
	case CloseUnsupportedData:
		return "unsupported data"
	case closeReserved:
		return "reserved"
	case CloseNoStatusReceived:
		return "no status received"
	case CloseAbnormalClosure:
		return "abnormal closure"
	case CloseInvalidFramePayloadData:
		return "invalid frame payload data"
	case ClosePolicyViolation:
		return "policy violation"
	case CloseMessageTooBig:
		return "message too big"
	case CloseMandatoryExtension:
		return "mandatory extension"
	case CloseInternalServerErr:
		return "internal server error"
	case CloseServiceRestart:
		return "service restart"
	case CloseTryAgainLater:
		return "try again later"
	case CloseBadGateway:
		return "bad gateway"
	case CloseTLSHandshake:
		return "TLS handshake"
	}
	return strconv.Itoa(int(c))
}

// AppendClosePayload appends the payload of a close frame: the code in
// network byte order, then the reason (RFC 6455 §5.5.1). CloseNoStatusReceived
// with an empty reason appends nothing, the payload of a close frame without a
// status. Otherwise the code must be valid on the wire and the reason valid
// UTF-8 of at most MaxCloseReason bytes.
func AppendClosePayload(dst []byte, code CloseCode, reason string) ([]byte, error) {
	if code == CloseNoStatusReceived && reason == "" {
		return dst, nil
	}
	if !code.IsValidOnWire() {
		return dst, ErrInvalidCloseCode
	}
	if len(reason) > MaxCloseReason {
		return dst, ErrCloseReasonTooLong
	}
	if !utf8.ValidString(reason) {
		return dst, ErrInvalidCloseReason
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...), nil
}

// ParseClosePayload decodes the payload of a received close frame. An empty
// payload gives CloseNoStatusReceived. The reason aliases p. Errors:
// ErrCloseTooShort for a 1-byte payload and ErrInvalidCloseCode for a code not
// valid on the wire (both answered with CloseProtocolError), and
// ErrInvalidCloseReason for a reason that is not UTF-8 (answered with
// CloseInvalidFramePayloadData).
func ParseClosePayload(p []byte) (code CloseCode, reason []byte, err error) {
	switch len(p) {
	case 0:
		return CloseNoStatusReceived, nil, nil
	case 1:
		return 0, nil, ErrCloseTooShort
	}
	code = CloseCode(binary.BigEndian.Uint16(p))
	if !code.IsValidOnWire() {
		return code, nil, ErrInvalidCloseCode
	}
	reason = p[2:]
	if !utf8.Valid(reason) {
		return code, nil, ErrInvalidCloseReason
	}
	return code, reason, nil
}
