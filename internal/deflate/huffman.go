package deflate

import (
	"encoding/binary"
	"math/bits"
)

// Limits of the literal/length alphabet (RFC 1951 §3.2.5).
const (
	minMatch   = 4   // shortest match this encoder emits: the length of its hash
	maxMatch   = 258 // longest match DEFLATE can express
	endOfBlock = 256 // the literal/length symbol that ends a block
)

// code is a fixed Huffman code (RFC 1951 §3.2.6) ready to be written: the
// Huffman code with its bits reversed, because DEFLATE packs Huffman codes
// most significant bit first into a stream that is otherwise filled least
// significant bit first (RFC 1951 §3.1.1), followed by the symbol's extra
// bits, least significant first.
type code struct {
	bits uint32
	n    uint8
}

// Tables of the fixed Huffman codes, filled by init and never written again.
var (
	literalCodes [256]code          // literal byte -> its code
	lengthCodes  [maxMatch + 1]code // match length 3..258 -> length code and extra bits
	distCodes    [30]uint32         // distance code 0..29 -> its 5-bit code, reversed
	eobCode      code               // end of block
)

func init() {
	for b := range literalCodes {
		literalCodes[b] = fixedCode(b)
	}
	eobCode = fixedCode(endOfBlock)

	// Length symbols 257..284 cover lengths from 3 in runs of 1<<extra;
	// 285 alone stands for 258, so 284 stops at 257 (RFC 1951 §3.2.5).
	length := 3
	for sym := 257; sym < 285; sym++ {
		extra := 0
		if sym >= 265 {
			extra = (sym - 261) / 4
		}
		c := fixedCode(sym)
		for e := 0; e < 1<<extra && length < maxMatch; e++ {
			lengthCodes[length] = code{bits: c.bits | uint32(e)<<c.n, n: c.n + uint8(extra)}
			length++
		}
	}
	lengthCodes[maxMatch] = fixedCode(285)

	for d := range distCodes {
		distCodes[d] = uint32(bits.Reverse8(uint8(d)) >> 3)
	}
}

// fixedCode returns the fixed Huffman code of literal/length symbol sym
// (RFC 1951 §3.2.6):
//
//	  0-143  8 bits  00110000 ..  10111111
//	144-255  9 bits 110010000 .. 111111111
//	256-279  7 bits   0000000 ..   0010111
//	280-287  8 bits  11000000 ..  11000111
func fixedCode(sym int) code {
	var c, n int
	switch {
	case sym < 144:
		c, n = 0x30+sym, 8
	case sym < 256:
		c, n = 0x190+sym-144, 9
	case sym < 280:
		c, n = sym-256, 7
	default:
		c, n = 0xc0+sym-280, 8
	}
	return code{bits: uint32(bits.Reverse16(uint16(c)) >> (16 - n)), n: uint8(n)}
}

// distCode returns the distance code of a match distance in 1..32768 and
// the value of its extra bits (RFC 1951 §3.2.5). Codes 0..3 stand for
// distances 1..4; above, each pair of codes doubles the range and adds one
// extra bit, so the code follows from the two leading bits of distance-1.
func distCode(dist uint32) (c, extra uint32, nExtra uint8) {
	d := dist - 1
	if d < 4 {
		return d, 0, 0
	}
	l := uint32(bits.Len32(d)) // 3..15
	nExtra = uint8(l - 2)
	c = 2*(l-1) + (d>>(l-2))&1
	extra = d & (1<<(l-2) - 1)
	return c, extra, nExtra
}

// bitBuf collects output bits least significant bit first (RFC 1951
// §3.1.1). Between calls of put it holds fewer than 32 bits.
type bitBuf struct {
	bits uint64
	n    uint
}

// put appends the low n bits of v (n <= 32) and moves whole 32-bit words
// to dst.
func (b *bitBuf) put(dst []byte, v uint32, n uint8) []byte {
	b.bits |= uint64(v) << b.n
	b.n += uint(n)
	if b.n >= 32 {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(b.bits))
		b.bits >>= 32
		b.n -= 32
	}
	return dst
}

// bytes moves the whole bytes it holds to dst, keeping fewer than 8 bits.
func (b *bitBuf) bytes(dst []byte) []byte {
	for b.n >= 8 {
		dst = append(dst, byte(b.bits))
		b.bits >>= 8
		b.n -= 8
	}
	return dst
}

// align pads the bits with zeros to a byte boundary (RFC 1951 §3.2.4) and
// moves them all to dst.
func (b *bitBuf) align(dst []byte) []byte {
	b.n = (b.n + 7) &^ 7
	return b.bytes(dst)
}
