package frame

import "strconv"

// Opcode is the 4-bit frame opcode of RFC 6455 §5.2.
type Opcode byte

// The opcodes RFC 6455 §11.8 defines. 0x3–0x7 and 0xB–0xF are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (most significant bit set,
// RFC 6455 §5.5), reserved control opcodes included.
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsData reports whether op is a defined data opcode: continuation, text or
// binary.
func (op Opcode) IsData() bool { return op <= OpBinary }

// IsReserved reports whether op is not defined by RFC 6455 (0x3–0x7, 0xB–0xF),
// or does not fit in four bits.
func (op Opcode) IsReserved() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name, or its hex value if it is reserved.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "reserved(0x" + strconv.FormatUint(uint64(op), 16) + ")"
}
