package frame

import (
	"encoding/binary"
	"io"
	"math"
)

// Header sizes and limits (RFC 6455 §5.2, §5.5).
const (
	MinHeaderSize     = 2             // FIN/RSV/opcode byte and MASK/length byte
	MaxHeaderSize     = 2 + 8 + 4     // with a 64-bit length and a mask key
	MaxControlPayload = 125           // control frames carry at most 125 bytes
	MaxPayloadLength  = math.MaxInt64 // the most significant bit of a 64-bit length must be 0
)

// Header is a decoded frame header (RFC 6455 §5.2).
//
// Rsv1, Rsv2 and Rsv3 are reported as received; the decoders never reject
// them, because only the connection knows which extensions it negotiated
// (permessage-deflate uses Rsv1, RFC 7692 §6).
type Header struct {
	Fin    bool
	Rsv1   bool
	Rsv2   bool
	Rsv3   bool
	Opcode Opcode
	Masked bool
	Length int64
	Mask   [4]byte // meaningful only when Masked is set
}

// Size returns the number of bytes AppendHeader writes for h.
func (h Header) Size() int {
	n := MinHeaderSize
	switch {
	case h.Length > math.MaxUint16:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the wire form of h to dst, always in the minimal
// length encoding (RFC 6455 §5.2). It does not validate h: encoding a
// reserved opcode, a long control frame or a negative length is the caller's
// mistake (a negative length is written as 0).
func AppendHeader(dst []byte, h Header) []byte {
	b0 := byte(h.Opcode & 0xF)
	if h.Fin {
		b0 |= 0x80
	}
	if h.Rsv1 {
		b0 |= 0x40
	}
	if h.Rsv2 {
		b0 |= 0x20
	}
	if h.Rsv3 {
		b0 |= 0x10
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch n := h.Length; {
	case n > math.MaxUint16:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	case n > 125:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	case n >= 0:
		dst = append(dst, b0, b1|byte(n))
	default:
		dst = append(dst, b0, b1)
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// HeaderSize returns the full size of a header whose second byte is b1: the
// length and mask bits of that byte decide it.
func HeaderSize(b1 byte) int {
	n := MinHeaderSize
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// ParseHeader decodes the header at the start of b. On success n is the
// number of bytes the header took. When b holds only part of a header it
// returns ErrShortHeader and n is the number of bytes needed to go on (2 when
// b is shorter than that, otherwise the full size of the header). A longer
// than minimal length encoding is accepted: the RFC binds the sender, and
// rejecting it buys nothing. Other errors are *ViolationError values.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < MinHeaderSize {
		return h, MinHeaderSize, ErrShortHeader
	}
	n = HeaderSize(b[1])
	if len(b) < n {
		return h, n, ErrShortHeader
	}
	h, err = decode(b[:n])
	return h, n, err
}

// ReadHeader reads one header from r, using scratch (at least MaxHeaderSize
// bytes) as its buffer so that it allocates nothing. It reads exactly the
// header's bytes and no payload. A stream that ends before the first byte
// gives io.EOF; one that ends inside the header, io.ErrUnexpectedEOF.
func ReadHeader(r io.Reader, scratch []byte) (Header, error) {
	if len(scratch) < MaxHeaderSize {
		return Header{}, ErrShortScratch
	}
	if _, err := io.ReadFull(r, scratch[:MinHeaderSize]); err != nil {
		return Header{}, err
	}
	n := HeaderSize(scratch[1])
	if _, err := io.ReadFull(r, scratch[MinHeaderSize:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	return decode(scratch[:n])
}

// decode decodes a complete header; len(b) == HeaderSize(b[1]).
func decode(b []byte) (h Header, err error) {
	b0, b1 := b[0], b[1]
	h.Fin = b0&0x80 != 0
	h.Rsv1 = b0&0x40 != 0
	h.Rsv2 = b0&0x20 != 0
	h.Rsv3 = b0&0x10 != 0
	h.Opcode = Opcode(b0 & 0xF)
	h.Masked = b1&0x80 != 0
	rest := b[2:]
	switch l := b1 & 0x7F; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
	case 127:
		l64 := binary.BigEndian.Uint64(rest)
		if l64 > MaxPayloadLength {
			return h, ErrLengthOverflow
		}
		h.Length = int64(l64)
		rest = rest[8:]
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Mask[:], rest)
	}
	switch {
	case h.Opcode.IsReserved():
		return h, ErrReservedOpcode
	case !h.Opcode.IsControl():
	case !h.Fin:
		return h, ErrFragmentedControl
	case h.Length > MaxControlPayload:
		return h, ErrControlTooLong
	}
	return h, nil
}
