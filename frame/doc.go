// Package frame is the WebSocket wire format of RFC 6455 §5: opcodes, frame
// headers, masking, close codes and close-frame payloads.
//
// It is a pure codec. It does no I/O policy, starts no goroutines and knows
// nothing of HTTP or of connections; the wsproto package builds connections on
// top of it. Encoders append to a caller's slice (AppendHeader,
// AppendClosePayload); decoders parse a byte slice and report how much they
// used (ParseHeader) or read from an io.Reader into a caller's scratch buffer
// (ReadHeader). None of them allocates.
//
// Errors found while decoding are *ViolationError values that carry the close
// code a connection should send in answer (RFC 6455 §7.4.1), so a caller can
// fail the connection without a table of its own:
//
//	var pe *frame.ViolationError
//	if errors.As(err, &pe) {
//		// send a close frame with pe.Code
//	}
//
// The RSV1–3 bits are reported as they arrive and never rejected here: only
// the connection knows which extensions were negotiated (RFC 6455 §5.2), so
// it is the connection that decides whether a set RSV bit is an error.
package frame
