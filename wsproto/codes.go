package wsproto

import "github.com/db7c6739/ws/frame"

// CloseCode is the status code of a close frame (RFC 6455 §7.4): the code
// Close sends, and the one a *CloseError or *ProtocolError reports. It is
// frame.CloseCode, so that code using the codec and code using connections
// speak of the same values.
type CloseCode = frame.CloseCode

// The close codes of RFC 6455 §7.4.1 and the IANA registry (1012–1014).
// Applications may also send 3000–4999.
const (
	CloseNormalClosure           = frame.CloseNormalClosure
	CloseGoingAway               = frame.CloseGoingAway
	CloseProtocolError           = frame.CloseProtocolError
	CloseUnsupportedData         = frame.CloseUnsupportedData
	CloseNoStatusReceived        = frame.CloseNoStatusReceived // never on the wire: the peer's close frame had no code
	CloseAbnormalClosure         = frame.CloseAbnormalClosure  // never on the wire: the connection ended without a close frame
	CloseInvalidFramePayloadData = frame.CloseInvalidFramePayloadData
	ClosePolicyViolation         = frame.ClosePolicyViolation
	CloseMessageTooBig           = frame.CloseMessageTooBig
	CloseMandatoryExtension      = frame.CloseMandatoryExtension
	CloseInternalServerErr       = frame.CloseInternalServerErr
	CloseServiceRestart          = frame.CloseServiceRestart
	CloseTryAgainLater           = frame.CloseTryAgainLater
	CloseBadGateway              = frame.CloseBadGateway
)

// MaxCloseReason is the longest reason Close can send, in bytes.
const MaxCloseReason = frame.MaxCloseReason

// MaxControlPayload is the longest payload of a ping or pong, in bytes.
const MaxControlPayload = frame.MaxControlPayload
