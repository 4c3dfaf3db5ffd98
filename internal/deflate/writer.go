package deflate

import "encoding/binary"

// Bounds of windowBits: the values RFC 7692 §7.1.2.1 allows for
// server_max_window_bits and client_max_window_bits.
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// Compression levels, as in compress/flate: more effort, better ratio.
const (
	BestSpeed          = 1
	DefaultCompression = 5
	BestCompression    = 9
)

// maxStored is the most bytes a stored block holds (RFC 1951 §3.2.4).
const maxStored = 1<<16 - 1

// maxTableBits caps the hash table at 1<<14 int32 positions (64 KiB).
const maxTableBits = 14

// maxTokenBits caps the tokens of a block at 1<<11 (8 KiB).
const maxTokenBits = 11

// maxBlock is the most input bytes a block encodes: its symbols' counts
// fit in uint16, the end of block's included.
const maxBlock = 1<<16 - 2

// renormalizeAt is the absolute position past which the int32 positions in
// the table are shifted down, long before they could overflow.
const renormalizeAt = 1 << 30

// levelParams is how hard a level searches.
type levelParams struct {
	waysBits  uint8  // log2 of the positions a bucket of the table keeps
	tableBits uint8  // log2 of the most positions the table keeps
	nice      uint16 // a match this long ends the search
	insertMax uint16 // the longest match whose every position is hashed
	lazy      bool
	// dynamicMin is the fewest input bytes of a block for which a
	// dynamic code is worked out.
	dynamicMin int32
}

// levels[l] says how level l searches: a bucket of the table keeps the
// latest 1<<waysBits positions of the four bytes that hash to it, of which
// the encoder takes the longest match, stopping at one of nice bytes or
// more; with lazy, a match shorter than nice waits one byte in case a
// longer one starts there. Within the 64 KiB of table that a 32 KiB window
// gets, more ways find longer matches than more buckets would, at a cost
// in time: measured on text and JSON, levels 4 to 9 each gain 0.5 to 1.5%
// in ratio on the level before, for 10 to 35% in speed.
var levels = [BestCompression + 1]levelParams{
	1: {waysBits: 0, tableBits: 12, nice: maxMatch, insertMax: 16, dynamicMin: 4096},
	2: {waysBits: 0, tableBits: 12, nice: maxMatch, insertMax: 16},
	3: {waysBits: 1, tableBits: 13, nice: 32, insertMax: maxMatch},
	4: {waysBits: 2, tableBits: maxTableBits, nice: 32, insertMax: maxMatch},
	5: {waysBits: 3, tableBits: maxTableBits, nice: 64, insertMax: maxMatch},
	6: {waysBits: 4, tableBits: maxTableBits, nice: 64, insertMax: maxMatch},
	7: {waysBits: 3, tableBits: maxTableBits, nice: 128, insertMax: maxMatch, lazy: true},
	8: {waysBits: 4, tableBits: maxTableBits, nice: 128, insertMax: maxMatch, lazy: true},
	9: {waysBits: 5, tableBits: maxTableBits, nice: maxMatch, insertMax: maxMatch, lazy: true},
}

// Writer compresses a stream of messages. Use NewWriter; the zero value
// works as NewWriter(MaxWindowBits, DefaultCompression) would and
// allocates its buffers on the first Append.
type Writer struct {
	bb         bitBuf
	inBlock    bool  // a fixed-Huffman block is open: its header is written, its end is not
	lazy       bool  // see levelParams
	waysBits   uint8 // see levelParams
	hashShift  uint8 // 32 - log2(number of buckets)
	nice       int32 // see levelParams
	insertMax  int32 // see levelParams
	dynamicMin int32 // see levelParams
	window     int32 // 1<<windowBits: the farthest a match may reach back

	// Bytes are numbered by absolute position, counting every byte ever
	// compressed from 1 and shifted down by renormalize now and then. hist
	// holds the bytes from position base on: every byte since the last
	// Reset, or at least the window before the next byte. A table entry
	// below base is stale (zero is always below base): its byte either
	// precedes the last Reset or lies more than a window back.
	base int32
	hist []byte
	// table holds buckets of 1<<waysBits positions, each bucket the latest
	// positions of the four bytes that hash to it, newest first from slot
	// heads[bucket] on, round the end (with one way, no heads).
	table []int32
	heads []uint8

	// tokens are the matches of the block being made, each with the
	// number of literals before it (see encode), and run the literals
	// after the last; litFreq and distFreq count the block's
	// literal/length and distance symbols. Every Append ends its blocks,
	// so all are empty between calls.
	tokens   []uint32
	run      int
	litFreq  [numLitLen]uint16
	distFreq [numDist]uint16
}

// NewWriter returns a Writer whose back-references reach at most
// 1<<windowBits bytes back (windowBits is clamped to [MinWindowBits,
// MaxWindowBits]), the LZ77 sliding window of RFC 7692 §7.1.2, and that
// searches as hard as level says (clamped to [BestSpeed, BestCompression];
// 0 means DefaultCompression).
func NewWriter(windowBits, level int) *Writer {
	w := &Writer{}
	w.init(windowBits, level)
	return w
}

func (w *Writer) init(windowBits, level int) {
	windowBits = min(max(windowBits, MinWindowBits), MaxWindowBits)
	if level == 0 {
		level = DefaultCompression
	}
	lp := levels[min(max(level, BestSpeed), BestCompression)]
	*w = Writer{
		lazy:       lp.lazy,
		nice:       int32(lp.nice),
		insertMax:  int32(lp.insertMax),
		dynamicMin: lp.dynamicMin,
		window:     1 << windowBits,
		base:       1,
	}
	// A table with about twice as many positions as the window keeps
	// collisions rare; the level's cap bounds its memory. Small tables
	// keep 256 buckets or more, with fewer ways.
	tableBits := min(windowBits+1, int(lp.tableBits))
	bucketBits := max(tableBits-int(lp.waysBits), min(tableBits, 8))
	w.waysBits = uint8(tableBits - bucketBits)
	w.hashShift = uint8(32 - bucketBits)
	w.table = make([]int32, 1<<tableBits)
	if w.waysBits > 0 {
		w.heads = make([]uint8, 1<<bucketBits)
	}
	w.hist = make([]byte, 0, 2*w.window)
	// A block of a few thousand matches is long enough that the header
	// of a dynamic block costs little and short enough to follow the data.
	w.tokens = make([]uint32, 0, 1<<min(windowBits+1, maxTokenBits))
}

// MaxOutput returns an upper bound on the bytes that one call of Append
// with an input of n bytes appends, flush or not.
//
// Append chooses the cheapest of a fixed-Huffman, a dynamic-Huffman and a
// stored block for the input of each block: never more than fixed codes
// would take, at most 9 bits a byte (a literal byte takes 8 or 9 bits, a
// match of 4 or more bytes at most 31). The rest is the bits left from the
// previous call, a block header, the end of block, a stored block header,
// padding and the 4 bytes LEN and NLEN of the empty stored block. (An
// Append makes more than one block only from blocks of hundreds of bytes,
// which stored blocks would hold at less than 9 bits a byte.)
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
// Each block goes out in whichever of fixed Huffman codes, dynamic Huffman
// codes or a stored block (RFC 1951 §3.2.4) takes the fewest bits, so
// incompressible data grows by 5 bytes per 32 KiB at most. Append appends
// at most MaxOutput(len(p)) bytes, and allocates only when dst has less
// spare capacity than that. p must not overlap the spare capacity of dst,
// which Append writes.
func (w *Writer) Append(dst, p []byte, flush bool) []byte {
	if w.window == 0 {
		w.init(MaxWindowBits, DefaultCompression)
	}
	stored := -1       // offset in dst of the LEN of a stored block that ends dst
	from, done := 0, 0 // p[from:done] is the input of the tokens
	for done < len(p) {
		// Room for the tokens of the next bytes (see encode), and one for
		// the literals at the end of the block.
		room := cap(w.tokens) - len(w.tokens) - 2
		if room < cap(w.tokens)/4 || done-from == maxBlock {
			dst, stored = w.block(dst, p[from:done], stored, true)
			from, room = done, cap(w.tokens)-2
		}
		if len(w.hist) == cap(w.hist) {
			w.slide()
		}
		// At most a window at a time, so that the window before it stays
		// in hist, and no more than room tokens: n bytes make at most n/4
		// matches and (n+maxRun-1)/maxRun runs of maxRun literals, fewer
		// than n/3+1.
		start := len(w.hist)
		n := min(len(p)-done, cap(w.hist)-start, int(w.window), 3*room, maxBlock-(done-from))
		w.hist = append(w.hist, p[done:done+n]...)
		w.encode(start)
		done += n
	}
	if done > from {
		dst, _ = w.block(dst, p[from:], stored, false)
	}
	if !flush {
		return w.bb.bytes(dst)
	}
	if w.inBlock {
		dst = w.bb.put(dst, fixedLit[endOfBlock].bits, fixedLit[endOfBlock].n)
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
	w.base += int32(len(w.hist))
	w.hist = w.hist[:0]
	if w.base > renormalizeAt {
		w.renormalize()
	}
}

// The kinds of block (RFC 1951 §3.2.3, BTYPE 01, 10 and 00).
const (
	fixedBlock = iota
	dynamicBlock
	storedBlock
)

// block writes w.tokens, the encoding of raw, in whichever kind of block
// takes the fewest bits: the open fixed-Huffman block or a new one, a
// dynamic-Huffman block (if blockCosts works one out; full says whether the
// block ends for want of room rather than input), or stored blocks, the
// first of which may be the one at dst[stored:] that ends dst if stored is
// not negative, grown. It returns the offset of the LEN of the stored block
// that ends dst, or -1, and leaves no tokens.
func (w *Writer) block(dst, raw []byte, stored int, full bool) ([]byte, int) {
	w.endRun()
	var dyn dynamicCode
	costs := w.blockCosts(dst, raw, stored, full, &dyn)
	kind := fixedBlock
	if costs[dynamicBlock] < costs[kind] {
		kind = dynamicBlock
	}
	if costs[storedBlock] < costs[kind] {
		kind = storedBlock
	}
	dst, stored = w.writeBlock(dst, raw, stored, kind, &dyn)
	w.clearTokens()
	return dst, stored
}

// blockCosts returns the bits that writeBlock would append for each kind
// of block, and builds the dynamic code in dyn. A dynamic block is only
// worked out where fixed codes take 400 bits or more, since its header is
// rarely under 60 bytes, and, unless the block is full (of tokens or
// input), for w.dynamicMin input bytes or more: at level 1, working it out
// would cost a message of 1 KiB about as much time again as its matches.
func (w *Writer) blockCosts(dst, raw []byte, stored int, full bool, dyn *dynamicCode) (costs [3]int) {
	extra, fixed := 0, 0 // bits
	for s, f := range w.litFreq {
		fixed += int(f) * int(fixedLit[s].n)
		extra += int(f) * int(litExtra[s])
	}
	for s, f := range w.distFreq {
		fixed += int(f) * 5
		extra += int(f) * int(distExtra[s])
	}
	costs[fixedBlock] = fixed + extra
	if !w.inBlock {
		costs[fixedBlock] += 3
	}
	costs[dynamicBlock] = costs[fixedBlock] + 1
	if costs[fixedBlock] >= 400 && (full || len(raw) >= int(w.dynamicMin)) {
		w.litFreq[endOfBlock] = 1
		header, data := dyn.build(&w.litFreq, &w.distFreq)
		w.litFreq[endOfBlock] = 0
		costs[dynamicBlock] = header + data + extra
		if w.inBlock {
			costs[dynamicBlock] += int(fixedLit[endOfBlock].n)
		}
	}
	costs[storedBlock] = w.storedBits(dst, raw, stored)
	return costs
}

// writeBlock writes w.tokens, the encoding of raw, as a block of the kind
// given, dynamic in the code dyn. Stored blocks begin by growing the one at
// dst[stored:] if stored is not negative; writeBlock returns the offset of
// the LEN of the stored block that ends dst, or -1.
func (w *Writer) writeBlock(dst, raw []byte, stored, kind int, dyn *dynamicCode) ([]byte, int) {
	switch kind {
	case storedBlock:
		return w.store(dst, raw, stored)
	case dynamicBlock:
		if w.inBlock {
			dst = w.bb.put(dst, fixedLit[endOfBlock].bits, fixedLit[endOfBlock].n)
			w.inBlock = false
		}
		dst = dyn.writeHeader(dst, &w.bb)
		var lit [numLitLen]code
		var dist [numDist]code
		canonicalCodes(dyn.lit[:], lit[:])
		canonicalCodes(dyn.dist[:], dist[:])
		dst = w.writeTokens(dst, raw, &lit, &dist)
		dst = w.bb.put(dst, lit[endOfBlock].bits, lit[endOfBlock].n)
	default:
		if !w.inBlock {
			// BFINAL = 0, BTYPE = 01: fixed Huffman codes (RFC 1951 §3.2.3).
			dst = w.bb.put(dst, 0b010, 3)
			w.inBlock = true
		}
		dst = w.writeTokens(dst, raw, &fixedLit, &fixedDist)
	}
	return dst, -1
}

// endRun ends the tokens with the literals after the last match.
func (w *Writer) endRun() {
	if w.run > 0 {
		w.tokens = append(w.tokens, uint32(w.run)<<runShift)
		w.run = 0
	}
}

func (w *Writer) clearTokens() {
	w.tokens = w.tokens[:0]
	clear(w.litFreq[:])
	clear(w.distFreq[:])
}

// writeTokens writes w.tokens, the encoding of raw, in the codes lit and
// dist.
func (w *Writer) writeTokens(dst, raw []byte, lit *[numLitLen]code, dist *[numDist]code) []byte {
	bb := w.bb
	for _, t := range w.tokens {
		run := int(t >> runShift)
		for _, b := range raw[:run] {
			c := lit[b]
			dst = bb.put(dst, c.bits, c.n)
		}
		n := int(t>>lenShift&0xff) + 3
		if n == 3 {
			raw = raw[run:]
			continue
		}
		raw = raw[run+n:]
		c := lit[lengthSym[n]]
		// At most 15+5 bits, then at most 15+13.
		dst = bb.put(dst, c.bits|uint32(lengthExtra[n])<<c.n, c.n+litExtra[lengthSym[n]])
		dc, e, ne := distCode(t&(1<<lenShift-1) + 1)
		c = dist[dc]
		dst = bb.put(dst, c.bits|e<<c.n, c.n+ne)
	}
	w.bb = bb
	return dst
}

// storedBits returns what store would append, in bits: the end of the
// open block, a block header, padding, LEN and NLEN, and the bytes; or
// the bytes alone as far as the stored block that ends dst can take them.
func (w *Writer) storedBits(dst, raw []byte, stored int) int {
	n := len(raw)
	bits := 8 * n
	if stored >= 0 {
		n -= min(n, maxStored-int(binary.LittleEndian.Uint16(dst[stored:])))
	}
	if n > 0 {
		head := int(w.bb.n) + 3
		if w.inBlock {
			head += int(fixedLit[endOfBlock].n)
		}
		bits += (head+7)&^7 - int(w.bb.n) + 32
		// Any further block starts aligned: 3 bits, padding, LEN and NLEN.
		bits += (n - 1) / maxStored * 40
	}
	return bits
}

// store appends raw in stored blocks (RFC 1951 §3.2.4), growing the one at
// dst[stored:] first if stored is not negative, and returns the offset of
// the LEN of the last.
func (w *Writer) store(dst, raw []byte, stored int) ([]byte, int) {
	if stored >= 0 {
		size := int(binary.LittleEndian.Uint16(dst[stored:]))
		k := min(len(raw), maxStored-size)
		binary.LittleEndian.PutUint16(dst[stored:], uint16(size+k))
		binary.LittleEndian.PutUint16(dst[stored+2:], ^uint16(size+k))
		dst = append(dst, raw[:k]...)
		raw = raw[k:]
	}
	for len(raw) > 0 {
		if w.inBlock {
			dst = w.bb.put(dst, fixedLit[endOfBlock].bits, fixedLit[endOfBlock].n)
			w.inBlock = false
		}
		// BFINAL = 0, BTYPE = 00 (RFC 1951 §3.2.4).
		dst = w.bb.put(dst, 0, 3)
		dst = w.bb.align(dst)
		k := min(len(raw), maxStored)
		stored = len(dst)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(k))
		dst = binary.LittleEndian.AppendUint16(dst, ^uint16(k))
		dst = append(dst, raw[:k]...)
		raw = raw[k:]
	}
	return dst, stored
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
