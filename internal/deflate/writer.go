package deflate

import "encoding/binary"

// Bounds of windowBits: the values RFC 7692 §7.1.2.1 allows for
// server_max_window_bits and client_max_window_bits.
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// maxStored is the most bytes a stored block holds (RFC 1951 §3.2.4).
const maxStored = 1<<16 - 1

// huffmanChunk is how much input a Writer without LZ77 matching encodes
// before it weighs a stored block instead.
const huffmanChunk = 1 << 15

// maxTableBits caps the hash table at 1<<12 int32 positions (16 KiB).
const maxTableBits = 12

// renormalizeAt is the absolute position past which the int32 positions in
// the table are shifted down, long before they could overflow.
const renormalizeAt = 1 << 30

// Writer compresses a stream of messages. Use NewWriter; the zero value
// works as NewWriter(MaxWindowBits, false) would and allocates its buffers
// on the first Append.
type Writer struct {
	bb          bitBuf
	inBlock     bool // a fixed-Huffman block is open: its header is written, its end is not
	huffmanOnly bool
	hashShift   uint8 // 32 - log2(len(table))
	window      int32 // 1<<windowBits: the farthest a match may reach back

	// Bytes are numbered by absolute position, counting every byte ever
	// compressed from 1 and shifted down by renormalize now and then. hist
	// holds the bytes from position base on: every byte since the last
	// Reset, or at least the window before the next byte. A table entry
	// below base is stale (zero is always below base): its byte either
	// precedes the last Reset or lies more than a window back.
	base  int32
	hist  []byte
	table []int32 // hash of 4 bytes -> position of their latest occurrence
}

// NewWriter returns a Writer whose back-references reach at most
// 1<<windowBits bytes back (windowBits is clamped to [MinWindowBits,
// MaxWindowBits]), the LZ77 sliding window of RFC 7692 §7.1.2. huffmanOnly
// disables LZ77 matching altogether (literals only), the fastest mode with
// no history at all.
func NewWriter(windowBits int, huffmanOnly bool) *Writer {
	w := &Writer{}
	w.init(windowBits, huffmanOnly)
	return w
}

func (w *Writer) init(windowBits int, huffmanOnly bool) {
	windowBits = min(max(windowBits, MinWindowBits), MaxWindowBits)
	*w = Writer{huffmanOnly: huffmanOnly, window: 1 << windowBits}
	if huffmanOnly {
		return
	}
	// A table with about twice as many entries as the window has positions
	// keeps collisions rare; past maxTableBits more entries gain little.
	tableBits := min(windowBits+1, maxTableBits)
	w.hashShift = uint8(32 - tableBits)
	w.table = make([]int32, 1<<tableBits)
	w.hist = make([]byte, 0, 2*w.window)
	w.base = 1
}

// MaxOutput returns an upper bound on the bytes that one call of Append
// with an input of n bytes appends, flush or not.
//
// Each input byte costs at most 9 bits (a literal byte takes 8 or 9 bits,
// a match of 4 or more bytes at most 31); the rest is the bits left from the
// previous call, a block header, the end of block, a stored block header,
// padding and the 4 bytes LEN and NLEN of the empty stored block.
func MaxOutput(n int) int {
	n = max(n, 0)
	return n + n/8 + 16
}

// Append compresses p and appends the output to dst. All of p is consumed.
//
// Without flush, the output ends at a byte boundary and any remaining bits
// stay in the Writer for the next call. With flush, the current block is
// ended (end-of-block symbol) and followed by an empty non-final stored
// block (the "sync flush": the output then ends with 00 00 ff ff), so a
// decoder can produce every byte of p and of earlier calls. Each message of
// permessage-deflate is a sequence of Append calls, the last with flush; the
// caller strips the final 00 00 ff ff (RFC 7692 §7.2.1). A flush may also
// come in the middle of a message. Append never sets BFINAL.
//
// Input that would grow under fixed Huffman codes goes out in stored
// blocks instead (RFC 1951 §3.2.4), so incompressible data grows by 5 bytes
// per 32 KiB at most. Append appends at most MaxOutput(len(p))
// bytes, and allocates only when dst has less spare capacity than that. p
// must not overlap the spare capacity of dst, which Append writes.
func (w *Writer) Append(dst, p []byte, flush bool) []byte {
	if w.window == 0 {
		w.init(MaxWindowBits, false)
	}
	stored := -1 // offset in dst of the LEN of a stored block that ends dst
	for len(p) > 0 {
		var chunk []byte
		start := 0
		if w.huffmanOnly {
			chunk = p[:min(len(p), huffmanChunk)]
		} else {
			if len(w.hist) == cap(w.hist) {
				w.slide()
			}
			// A window at a time, which a stored block can always hold.
			start = len(w.hist)
			n := copy(w.hist[start:min(cap(w.hist), start+int(w.window))], p)
			w.hist = w.hist[:start+n]
			chunk = w.hist[start:]
		}
		p = p[len(chunk):]
		dst, stored = w.appendChunk(dst, chunk, start, stored)
	}
	if !flush {
		return w.bb.bytes(dst)
	}
	if w.inBlock {
		dst = w.bb.put(dst, eobCode.bits, eobCode.n)
		w.inBlock = false
	}
	// BFINAL = 0, BTYPE = 00: a stored block, aligned, with LEN = 0 and
	// NLEN = ^LEN (RFC 1951 §3.2.4).
	dst = w.bb.put(dst, 0, 3)
	dst = w.bb.align(dst)
	return append(dst, 0x00, 0x00, 0xff, 0xff)
}

// Reset forgets the history, so the next message references nothing before
// it (no context takeover, RFC 7692 §7.1.1). Call it after an Append with
// flush: it also discards output not yet flushed, which leaves the Writer as
// NewWriter returned it, ready for a new stream. It costs the same whatever
// the window and table size.
func (w *Writer) Reset() {
	w.bb = bitBuf{}
	w.inBlock = false
	if w.huffmanOnly {
		return
	}
	w.base += int32(len(w.hist))
	w.hist = w.hist[:0]
	if w.base > renormalizeAt {
		w.renormalize()
	}
}

// appendChunk encodes chunk, which is hist[start:] unless w.huffmanOnly,
// in the open fixed-Huffman block or a new one, and if that costs more bits
// than storing it, stores it instead: in a new stored block, or by growing
// the one at dst[stored:] that ends dst, if stored is not negative. It
// returns the offset of the LEN of the stored block that ends dst, or -1.
func (w *Writer) appendChunk(dst, chunk []byte, start, stored int) ([]byte, int) {
	mark, markBits, markInBlock := len(dst), w.bb, w.inBlock
	if !w.inBlock {
		// BFINAL = 0, BTYPE = 01: fixed Huffman codes (RFC 1951 §3.2.3).
		dst = w.bb.put(dst, 0b010, 3)
		w.inBlock = true
	}
	if w.huffmanOnly {
		dst = w.literals(dst, chunk)
	} else {
		dst = w.encode(dst, start)
	}
	fixedBits := 8*(len(dst)-mark) + int(w.bb.n) - int(markBits.n)

	// What storing costs: the end of the open block, a block header,
	// padding, LEN and NLEN, and the bytes; or the bytes alone if the
	// stored block that ends dst can take them.
	size := 0
	grow := stored >= 0
	if grow {
		size = int(binary.LittleEndian.Uint16(dst[stored:]))
		grow = size+len(chunk) <= maxStored
	}
	storedBits := 8 * len(chunk)
	if !grow {
		head := int(markBits.n) + 3
		if markInBlock {
			head += int(eobCode.n)
		}
		storedBits += (head+7)&^7 - int(markBits.n) + 32
	}
	if fixedBits <= storedBits {
		return dst, -1
	}

	dst, w.bb, w.inBlock = dst[:mark], markBits, markInBlock
	if grow {
		size += len(chunk)
	} else {
		if w.inBlock {
			dst = w.bb.put(dst, eobCode.bits, eobCode.n)
			w.inBlock = false
		}
		// BFINAL = 0, BTYPE = 00 (RFC 1951 §3.2.4).
		dst = w.bb.put(dst, 0, 3)
		dst = w.bb.align(dst)
		stored, size = len(dst), len(chunk)
		dst = append(dst, 0, 0, 0, 0)
	}
	binary.LittleEndian.PutUint16(dst[stored:], uint16(size))
	binary.LittleEndian.PutUint16(dst[stored+2:], ^uint16(size))
	return append(dst, chunk...), stored
}

// literals encodes p as literal bytes.
func (w *Writer) literals(dst, p []byte) []byte {
	bb := w.bb
	for _, b := range p {
		c := literalCodes[b]
		dst = bb.put(dst, c.bits, c.n)
	}
	w.bb = bb
	return dst
}

// slide drops the older half of the full history buffer. The table keeps
// the positions of the dropped bytes; they fall below base, so no match
// uses them (they are all more than a window behind the next byte anyway).
func (w *Writer) slide() {
	copy(w.hist, w.hist[w.window:])
	w.hist = w.hist[:w.window]
	w.base += w.window
	if w.base > renormalizeAt {
		w.renormalize()
	}
}

// renormalize shifts every position down so that base becomes 1 again,
// turning stale table entries into zeros. It runs once per gigabyte
// compressed, so its cost, proportional to the table, does not count.
func (w *Writer) renormalize() {
	delta := w.base - 1
	for i, pos := range w.table {
		w.table[i] = max(pos-delta, 0)
	}
	w.base = 1
}
