package deflate

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// Limits of the alphabets (RFC 1951 §3.2.5, §3.2.7).
const (
	minMatch    = 4   // shortest match this encoder emits: the length of its hash
	maxMatch    = 258 // longest match DEFLATE can express
	endOfBlock  = 256 // the literal/length symbol that ends a block
	numLitLen   = 286 // literal/length symbols that can occur: 0..285
	numDist     = 30  // distance symbols that can occur: 0..29
	numCodeLen  = 19  // code length symbols: 0..18
	maxCodeBits = 15  // longest literal/length or distance code
	maxCLBits   = 7   // longest code length code
)

// code is a Huffman code ready to be written: its bits reversed, because
// DEFLATE packs Huffman codes most significant bit first into a stream that
// is otherwise filled least significant bit first (RFC 1951 §3.1.1).
type code struct {
	bits uint32
	n    uint8
}

// Tables filled by init and never written again.
var (
	fixedLit  [numLitLen]code // literal/length symbol -> its fixed code (§3.2.6)
	fixedDist [numDist]code   // distance symbol -> its fixed 5-bit code

	lengthSym   [maxMatch + 1]uint16 // match length 3..258 -> its symbol 257..285
	lengthExtra [maxMatch + 1]uint8  // match length -> the value of its extra bits
	litExtra    [numLitLen]uint8     // literal/length symbol -> how many extra bits follow it
	distExtra   [numDist]uint8       // distance symbol -> how many extra bits follow it
)

func init() {
	for sym := range fixedLit {
		fixedLit[sym] = fixedCode(sym)
	}
	for d := range fixedDist {
		fixedDist[d] = code{bits: uint32(bits.Reverse8(uint8(d)) >> 3), n: 5}
	}

	// Length symbols 257..284 cover lengths from 3 in runs of 1<<extra;
	// 285 alone stands for 258, so 284 stops at 257 (RFC 1951 §3.2.5).
	length := 3
	for sym := 257; sym < 285; sym++ {
		extra := 0
		if sym >= 265 {
			extra = (sym - 261) / 4
		}
		litExtra[sym] = uint8(extra)
		for e := 0; e < 1<<extra && length < maxMatch; e++ {
			lengthSym[length], lengthExtra[length] = uint16(sym), uint8(e)
			length++
		}
	}
	lengthSym[maxMatch] = 285

	// Distance symbols 0..3 have no extra bits, then each pair of symbols
	// one more than the pair before.
	for d := 4; d < numDist; d++ {
		distExtra[d] = uint8(d/2 - 1)
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
	return code{bits: reverse(uint32(c), uint8(n)), n: uint8(n)}
}

// reverse returns the n low bits of c in reverse order.
func reverse(c uint32, n uint8) uint32 {
	return bits.Reverse32(c) >> (32 - n)
}

// distCode returns the distance symbol of a match distance in 1..32768 and
// the value of its extra bits (RFC 1951 §3.2.5). Symbols 0..3 stand for
// distances 1..4; above, each pair of symbols doubles the range and adds one
// extra bit, so the symbol follows from the two leading bits of distance-1.
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

// huffmanLengths sets lengths[s] to the length of the code of symbol s in
// a Huffman code for freq (0 for a symbol of frequency 0) that has no code
// longer than maxBits, which must allow a code for every symbol in use
// (1<<maxBits of them). The code is always complete, as zlib's inflate
// demands of a code length code: with fewer than two symbols in use, two
// symbols get a code of one bit, the unused among them included. Where
// Huffman's algorithm yields a longer code, the frequencies are halved
// (keeping every used symbol at 1 or more) until it does not: a rare case
// that costs a little ratio, since the halved code is not optimal.
func huffmanLengths(freq []uint16, lengths []uint8, maxBits int) {
	clear(lengths)
	// Symbols in use, ordered by frequency (ties by symbol), as
	// freq<<16 | symbol.
	var leaves [numLitLen]uint32
	n := 0
	for s, f := range freq {
		if f != 0 {
			leaves[n] = uint32(f)<<16 | uint32(s)
			n++
		}
	}
	if n < 2 {
		// One bit each for symbols 0 and 1, or for the used symbol and
		// one of those.
		lengths[0], lengths[1] = 1, 1
		if n == 1 && leaves[0]&0xffff > 1 {
			lengths[1] = 0
			lengths[leaves[0]&0xffff] = 1
		}
		return
	}
	slices.Sort(leaves[:n])

	// Nodes 0..n-1 are the leaves in order, n..2n-2 the inner nodes in the
	// order Huffman's algorithm makes them, which is also the order of
	// their weights: two queues, of leaves and of inner nodes, always
	// hold the lightest nodes at their heads (van Leeuwen's method).
	var (
		weight [2*numLitLen - 1]uint32
		parent [2*numLitLen - 1]uint16
		depth  [2*numLitLen - 1]uint8
	)
	for i := range n {
		weight[i] = leaves[i] >> 16
	}
	for {
		leaf, inner := 0, n // heads of the two queues
		for next := n; next < 2*n-1; next++ {
			// Take the lighter head twice; on a tie the leaf, which keeps
			// the tree shallow.
			var pick [2]int
			for k := range pick {
				if leaf < n && (inner == next || weight[leaf] <= weight[inner]) {
					pick[k] = leaf
					leaf++
				} else {
					pick[k] = inner
					inner++
				}
			}
			weight[next] = weight[pick[0]] + weight[pick[1]]
			parent[pick[0]], parent[pick[1]] = uint16(next), uint16(next)
		}
		// A parent comes after its children: walk from the root down.
		root := 2*n - 2
		depth[root] = 0
		longest := uint8(0)
		for i := root - 1; i >= 0; i-- {
			depth[i] = depth[parent[i]] + 1
			if i < n {
				longest = max(longest, depth[i])
			}
		}
		if int(longest) <= maxBits {
			break
		}
		// Halving keeps the leaves in order, so they need no new sort.
		for i := range n {
			weight[i] = (weight[i] + 1) >> 1
		}
	}
	for i := range n {
		lengths[leaves[i]&0xffff] = depth[i]
	}
}

// canonicalCodes assigns the codes of RFC 1951 §3.2.2 to the symbols of
// lengths: shorter codes first, and in the order of the symbols among codes
// of one length. It leaves the codes of symbols of length 0 alone.
func canonicalCodes(lengths []uint8, codes []code) {
	codes = codes[:len(lengths)]
	var next [maxCodeBits + 1]uint16
	for _, l := range lengths {
		// Most lengths are 0 in a literal/length code: counting them
		// would chain every increment to the one before.
		if l != 0 {
			next[l&maxCodeBits]++
		}
	}
	c := uint16(0)
	for l := 1; l <= maxCodeBits; l++ {
		c, next[l] = (c+next[l])<<1, c
	}
	for s, l := range lengths {
		if l != 0 {
			l &= maxCodeBits
			codes[s] = code{bits: uint32(bits.Reverse16(next[l]) >> (16 - l)), n: l}
			next[l]++
		}
	}
}

// codeLengthOrder is the order in which a dynamic block header gives the
// lengths of the code length code (RFC 1951 §3.2.7).
var codeLengthOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicCode is the code of one dynamic block (RFC 1951 §3.2.7) and its
// header: the code lengths, run-length encoded with symbols 16, 17 and 18
// of the code length code.
type dynamicCode struct {
	lit   [numLitLen]uint8 // code lengths of literal/length symbols
	dist  [numDist]uint8   // code lengths of distance symbols
	cl    [numCodeLen]uint8
	nLit  int // HLIT + 257
	nDist int // HDIST + 1
	nCL   int // HCLEN + 4
	// ops holds the header's code length symbols, each as symbol | extra<<8.
	ops  [numLitLen + numDist]uint16
	nOps int
}

// build makes the code for symbols of the given frequencies, one end of
// block included, and returns the bits its header takes and the bits the
// symbols take in it, without their extra bits.
func (d *dynamicCode) build(litFreq *[numLitLen]uint16, distFreq *[numDist]uint16) (header, data int) {
	huffmanLengths(litFreq[:], d.lit[:], maxCodeBits)
	huffmanLengths(distFreq[:], d.dist[:], maxCodeBits)
	d.nLit, d.nDist = 257, 1
	for s := numLitLen - 1; s >= 257; s-- {
		if d.lit[s] != 0 {
			d.nLit = s + 1
			break
		}
	}
	for s := numDist - 1; s >= 1; s-- {
		if d.dist[s] != 0 {
			d.nDist = s + 1
			break
		}
	}
	for s, f := range litFreq {
		data += int(f) * int(d.lit[s])
	}
	for s, f := range distFreq {
		data += int(f) * int(d.dist[s])
	}

	// The lengths of both codes form one sequence, which runs may cross
	// (RFC 1951 §3.2.7).
	var seq [numLitLen + numDist]uint8
	n := copy(seq[:], d.lit[:d.nLit])
	n += copy(seq[n:], d.dist[:d.nDist])
	var clFreq [numCodeLen]uint16
	d.nOps = 0
	op := func(sym, extra int) {
		d.ops[d.nOps] = uint16(sym | extra<<8)
		d.nOps++
		clFreq[sym]++
	}
	for i := 0; i < n; {
		l := seq[i]
		run := 1
		for i+run < n && seq[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for ; run >= 11; run -= min(run, 138) {
				op(18, min(run, 138)-11) // 11..138 zeros
			}
			if run >= 3 {
				op(17, run-3) // 3..10 zeros
				run = 0
			}
		} else {
			op(int(l), 0)
			run--
			for ; run >= 3; run -= min(run, 6) {
				op(16, min(run, 6)-3) // the previous length 3..6 times
			}
		}
		for ; run > 0; run-- {
			op(int(l), 0)
		}
	}
	huffmanLengths(clFreq[:], d.cl[:], maxCLBits)
	d.nCL = 4
	for k := numCodeLen - 1; k >= 4; k-- {
		if d.cl[codeLengthOrder[k]] != 0 {
			d.nCL = k + 1
			break
		}
	}
	header = 3 + 5 + 5 + 4 + 3*d.nCL
	for s, f := range clFreq {
		header += int(f) * int(d.cl[s])
	}
	header += 2*int(clFreq[16]) + 3*int(clFreq[17]) + 7*int(clFreq[18])
	return header, data
}

// writeHeader writes the block header: BFINAL 0, BTYPE 10, and the code.
func (d *dynamicCode) writeHeader(dst []byte, bb *bitBuf) []byte {
	dst = bb.put(dst, 0b100, 3)
	dst = bb.put(dst, uint32(d.nLit-257)|uint32(d.nDist-1)<<5|uint32(d.nCL-4)<<10, 14)
	for _, s := range codeLengthOrder[:d.nCL] {
		dst = bb.put(dst, uint32(d.cl[s]), 3)
	}
	var cl [numCodeLen]code
	canonicalCodes(d.cl[:], cl[:])
	for _, o := range d.ops[:d.nOps] {
		c := cl[o&0xff]
		extra := uint32(o >> 8)
		switch o & 0xff {
		case 16:
			dst = bb.put(dst, c.bits|extra<<c.n, c.n+2)
		case 17:
			dst = bb.put(dst, c.bits|extra<<c.n, c.n+3)
		case 18:
			dst = bb.put(dst, c.bits|extra<<c.n, c.n+7)
		default:
			dst = bb.put(dst, c.bits, c.n)
		}
	}
	return dst
}
