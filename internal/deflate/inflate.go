package deflate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// ErrCorrupt is the error of an Inflater whose input is not valid DEFLATE:
// a reserved block type, a stored block whose length check fails, a code
// that is over-subscribed or incomplete, a symbol or distance out of range,
// or a reference before the start of the history.
var ErrCorrupt = errors.New("deflate: corrupt input")

const (
	windowSize = 1 << MaxWindowBits // the largest distance RFC 1951 allows
	windowMask = windowSize - 1
	fastBits   = 9 // bits a Huffman lookup decodes in one step
	maxCodeLen = 15
	inSize     = 1 << 10
)

// Inflater decompresses a raw DEFLATE stream (RFC 1951) that it reads from
// a source, into the buffers Read is given. It produces no more than each
// Read asks for, so a caller that counts what it gets bounds the work and
// the memory a stream can cost; it allocates nothing after NewInflater, and
// one Inflater serves stream after stream through Reset.
//
// It reads its source in pieces of up to 1 KiB, never more than the bits it
// needs for the next symbol require when the source has nothing buffered,
// so a stream that arrives slowly is inflated as far as it has arrived.
type Inflater struct {
	src    io.Reader
	srcErr error // what the source said last, io.EOF included
	err    error // sticky: io.EOF after the final block, or what failed

	in       [inSize]byte
	inR, inW int
	bits     uint64 // input bits not yet used, the next in the low bits
	nbits    uint

	// The history: the last windowSize bytes inflated, in a ring. Byte i
	// of the stream (the dictionary first) is at win[i&windowMask]; wpos
	// counts bytes written, rpos those handed to Read's callers.
	win        [windowSize]byte
	wpos, rpos int

	final      bool // the current block is the last
	inBlock    int  // 0 between blocks, else the kind of the current one
	storedLeft int  // of a stored block
	lit, dist  *huffTable
	dynLit     huffTable
	dynDist    huffTable
	lengths    [maxLit + maxDist]uint8
}

const (
	blockStored = iota + 1
	blockHuffman
)

// NewInflater returns an Inflater reading src, with dict as the history
// that the stream's first distances may refer into (nil for none).
func NewInflater(src io.Reader, dict []byte) *Inflater {
	f := new(Inflater)
	f.Reset(src, dict)
	return f
}

// Reset readies f for a new stream from src, with dict as its history.
func (f *Inflater) Reset(src io.Reader, dict []byte) {
	f.src, f.srcErr, f.err = src, nil, nil
	f.inR, f.inW, f.bits, f.nbits = 0, 0, 0, 0
	f.final, f.inBlock, f.storedLeft = false, 0, 0
	if len(dict) > windowSize {
		dict = dict[len(dict)-windowSize:]
	}
	copy(f.win[:], dict)
	f.wpos, f.rpos = len(dict), len(dict)
}

// Read inflates into p. It returns io.EOF after the final block, ErrCorrupt
// (wrapped with where) for bad input, io.ErrUnexpectedEOF for a stream that
// ends before its final block, and any other error of the source as it is.
func (f *Inflater) Read(p []byte) (int, error) {
	for {
		if f.rpos < f.wpos {
			return f.copyOut(p), nil
		}
		if f.err != nil || len(p) == 0 {
			return 0, f.err
		}
		f.err = f.inflate(len(p))
	}
}

// copyOut hands out what was inflated and not yet read.
func (f *Inflater) copyOut(p []byte) int {
	n := 0
	for n < len(p) && f.rpos < f.wpos {
		i := f.rpos & windowMask
		k := copy(p[n:], f.win[i:min(windowSize, i+f.wpos-f.rpos)])
		n += k
		f.rpos += k
	}
	return n
}

// inflate decodes until want bytes wait to be read, the stream ends, or
// the input runs out; it returns nil in the first case.
func (f *Inflater) inflate(want int) error {
	// Room for a whole match beyond want, and never so much that the ring
	// would overwrite bytes not yet read.
	want = min(want, windowSize-maxMatch)
	for f.wpos-f.rpos < want {
		var err error
		switch f.inBlock {
		case 0:
			if f.final {
				return io.EOF
			}
			err = f.blockHeader()
		case blockStored:
			err = f.stored(want)
		default:
			err = f.huffman(want)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fill reads the source into the input buffer, which is empty whenever it
// is called: need and stored call it only then, and symbol only after
// refill has moved every buffered byte into the bit buffer. It is the one
// place that may wait for the source. A read of nothing without an error
// is allowed (io.Reader) and means nothing; as bufio does, it gives up
// after 100 in a row.
func (f *Inflater) fill() error {
	f.inR, f.inW = 0, 0
	for range 100 {
		switch {
		case f.srcErr == io.EOF:
			return io.ErrUnexpectedEOF
		case f.srcErr != nil:
			return f.srcErr
		}
		f.inW, f.srcErr = f.src.Read(f.in[:])
		if f.inW > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// refill moves buffered input into the bit buffer, eight bytes at a time
// when it can, without reading the source. Bits above nbits may hold the
// next input bytes already; they are the same bits a later refill puts
// there, so OR-ing them again changes nothing.
func (f *Inflater) refill() {
	if f.inW-f.inR >= 8 {
		f.bits |= binary.LittleEndian.Uint64(f.in[f.inR:]) << f.nbits
		k := (63 - f.nbits) >> 3
		f.inR += int(k)
		f.nbits += k << 3
		return
	}
	for f.nbits <= 56 && f.inR < f.inW {
		f.bits |= uint64(f.in[f.inR]) << f.nbits
		f.inR++
		f.nbits += 8
	}
}

// need makes sure n <= 32 bits are in the bit buffer.
func (f *Inflater) need(n uint) error {
	for f.nbits < n {
		if f.inR == f.inW {
			if err := f.fill(); err != nil {
				return err
			}
		}
		f.refill()
	}
	return nil
}

// take consumes n bits that need made sure of.
func (f *Inflater) take(n uint) uint32 {
	v := uint32(f.bits & (1<<n - 1))
	f.bits >>= n
	f.nbits -= n
	return v
}

func (f *Inflater) blockHeader() error {
	if err := f.need(3); err != nil {
		return err
	}
	h := f.take(3)
	f.final = h&1 == 1
	switch h >> 1 {
	case 0:
		// Stored: skip to a byte boundary, then LEN and its complement.
		f.take(f.nbits & 7)
		if err := f.need(32); err != nil {
			return err
		}
		n, nn := f.take(16), f.take(16)
		if n != ^nn&0xFFFF {
			return errStoredLength
		}
		f.inBlock, f.storedLeft = blockStored, int(n)
	case 1:
		f.inBlock, f.lit, f.dist = blockHuffman, &fixedLitDec, &fixedDistDec
	case 2:
		if err := f.readCodes(); err != nil {
			return err
		}
		f.inBlock, f.lit, f.dist = blockHuffman, &f.dynLit, &f.dynDist
	default:
		return errBlockType
	}
	return nil
}

// stored copies a stored block's bytes: first those already in the bit
// buffer (whole bytes, the block being byte-aligned), then the input.
func (f *Inflater) stored(want int) error {
	for f.storedLeft > 0 && f.wpos-f.rpos < want {
		if f.nbits >= 8 {
			f.win[f.wpos&windowMask] = byte(f.take(8))
			f.wpos++
			f.storedLeft--
			continue
		}
		// The bit buffer is empty, but may hold the next input bytes
		// above its bits (see refill): they are copied from the input
		// now, so they must go.
		f.bits = 0
		if f.inR == f.inW {
			if err := f.fill(); err != nil {
				return err
			}
		}
		i := f.wpos & windowMask
		n := min(f.storedLeft, f.inW-f.inR, windowSize-i, want-(f.wpos-f.rpos))
		copy(f.win[i:i+n], f.in[f.inR:f.inR+n])
		f.inR += n
		f.wpos += n
		f.storedLeft -= n
	}
	if f.storedLeft == 0 {
		f.inBlock = 0
	}
	return nil
}

// huffman decodes a Huffman-coded block's symbols.
func (f *Inflater) huffman(want int) error {
	for f.wpos-f.rpos < want {
		if f.inW-f.inR >= 8 && f.fastSymbols(want) {
			continue
		}
		sym, err := f.symbol(f.lit)
		if err != nil {
			return err
		}
		if sym < 256 {
			f.win[f.wpos&windowMask] = byte(sym)
			f.wpos++
			continue
		}
		if sym == 256 {
			f.inBlock = 0
			return nil
		}
		sym -= 257
		if sym >= len(lengthBase) {
			return errLengthSymbol
		}
		length := int(lengthBase[sym])
		if n := uint(litExtra[257+sym]); n > 0 {
			if err := f.need(n); err != nil {
				return err
			}
			length += int(f.take(n))
		}
		dsym, err := f.symbol(f.dist)
		if err != nil {
			return err
		}
		if dsym >= len(distBase) {
			return errDistSymbol
		}
		dist := int(distBase[dsym])
		if n := uint(distExtra[dsym]); n > 0 {
			if err := f.need(n); err != nil {
				return err
			}
			dist += int(f.take(n))
		}
		if dist > min(f.wpos, windowSize) {
			return errDistTooFar
		}
		f.match(f.wpos, length, dist)
		f.wpos += length
	}
	return nil
}

// fastSymbols decodes symbols while the input holds eight bytes and the
// codes are in the fast tables, with the decoder's state in registers: with
// the bit buffer refilled to 56 bits or more, the longest literal or
// length/distance pair it takes (9 + 5 + 9 + 13 bits) is in hand. It stops
// before anything else (a long code, the end of the block, a bad symbol),
// which the careful path then takes, and reports whether it decoded any.
func (f *Inflater) fastSymbols(want int) bool {
	b, nb, inR, wpos := f.bits, f.nbits, f.inR, f.wpos
	in := f.in[:f.inW]
	win := &f.win
	lit, dist := &f.lit.fast, &f.dist.fast
	limit := f.rpos + want
	start := wpos
	for wpos < limit && len(in)-inR >= 8 {
		b |= binary.LittleEndian.Uint64(in[inR:]) << nb
		k := (63 - nb) >> 3
		inR += int(k)
		nb += k << 3
		b0, nb0 := b, nb

		e := lit[b&(1<<fastBits-1)]
		n, sym := uint(e&15), int(e>>4)
		if n == 0 || sym == 256 {
			break
		}
		b >>= n
		nb -= n
		if sym < 256 {
			win[wpos&windowMask] = byte(sym)
			wpos++
			continue
		}
		sym -= 257
		if sym >= len(lengthBase) {
			b, nb = b0, nb0
			break
		}
		x := uint(litExtra[257+sym])
		length := int(lengthBase[sym]) + int(b&(1<<x-1))
		b >>= x
		nb -= x
		e = dist[b&(1<<fastBits-1)]
		n, dsym := uint(e&15), int(e>>4)
		if n == 0 || dsym >= len(distBase) {
			b, nb = b0, nb0
			break
		}
		b >>= n
		nb -= n
		x = uint(distExtra[dsym])
		d := int(distBase[dsym]) + int(b&(1<<x-1))
		b >>= x
		nb -= x
		if d > min(wpos, windowSize) {
			b, nb = b0, nb0
			break
		}
		f.match(wpos, length, d)
		wpos += length
	}
	f.bits, f.nbits, f.inR, f.wpos = b, nb, inR, wpos
	return wpos > start
}

// match writes length bytes at stream position wpos, copied from d bytes
// before. It never overwrites a byte not yet read: decoding goes on only
// while fewer than windowSize-maxMatch bytes wait to be read.
func (f *Inflater) match(wpos, length, d int) {
	win := &f.win
	dst, src := wpos&windowMask, (wpos-d)&windowMask
	switch {
	case dst+length > windowSize || src+length > windowSize:
		// Across the end of the ring: byte by byte.
		for i := range length {
			win[(wpos+i)&windowMask] = win[(wpos-d+i)&windowMask]
		}
	case d >= length:
		copy(win[dst:dst+length], win[src:src+length])
	default:
		// The match overlaps its own output: a repeating pattern,
		// written forward.
		for i := range length {
			win[dst+i] = win[src+i]
		}
	}
}

// symbol decodes one symbol of t: from the fast table when its code is at
// most fastBits long, else bit by bit.
func (f *Inflater) symbol(t *huffTable) (int, error) {
	for {
		if f.nbits < maxCodeLen {
			f.refill()
		}
		e := t.fast[f.bits&(1<<t.bits-1)]
		if n := uint(e & 15); n != 0 && n <= f.nbits {
			f.bits >>= n
			f.nbits -= n
			return int(e >> 4), nil
		}
		if e == noCode {
			return 0, errNoCode
		}
		if e&15 == 0 {
			sym, n := t.slow(f.bits, f.nbits)
			if n > 0 {
				f.bits >>= n
				f.nbits -= n
				return sym, nil
			}
		}
		if f.nbits >= maxCodeLen {
			return 0, errNoCode
		}
		if err := f.fill(); err != nil {
			return 0, err
		}
	}
}

// readCodes reads a dynamic block's code lengths (RFC 1951 §3.2.7) and
// builds its two tables.
func (f *Inflater) readCodes() error {
	if err := f.need(14); err != nil {
		return err
	}
	nlit := int(f.take(5)) + 257
	ndist := int(f.take(5)) + 1
	nclen := int(f.take(4)) + 4
	if nlit > maxLit || ndist > maxDist {
		return errTooManyCodes
	}
	var clen [19]uint8
	for i := range nclen {
		if err := f.need(3); err != nil {
			return err
		}
		clen[codeOrder[i]] = uint8(f.take(3))
	}
	var ct huffTable
	if !ct.build(clen[:], 7) {
		return errCodeLengthCode
	}
	lengths := f.lengths[:nlit+ndist]
	for i := 0; i < len(lengths); {
		sym, err := f.symbol(&ct)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return errRepeatFirst
			}
			if err := f.need(2); err != nil {
				return err
			}
			rep, v = 3+int(f.take(2)), lengths[i-1]
		case 17:
			if err := f.need(3); err != nil {
				return err
			}
			rep = 3 + int(f.take(3))
		default:
			if err := f.need(7); err != nil {
				return err
			}
			rep = 11 + int(f.take(7))
		}
		if i+rep > len(lengths) {
			return errRepeatPast
		}
		for range rep {
			lengths[i] = v
			i++
		}
	}
	if !f.dynLit.build(lengths[:nlit], fastBits) || !f.dynDist.build(lengths[nlit:], fastBits) {
		return errBadCode
	}
	return nil
}

// The ways input can be corrupt, made once so that refusing input does not
// allocate; each matches ErrCorrupt with errors.Is.
var (
	errStoredLength   = fmt.Errorf("%w: stored block length", ErrCorrupt)
	errBlockType      = fmt.Errorf("%w: reserved block type", ErrCorrupt)
	errLengthSymbol   = fmt.Errorf("%w: length symbol", ErrCorrupt)
	errDistSymbol     = fmt.Errorf("%w: distance symbol", ErrCorrupt)
	errDistTooFar     = fmt.Errorf("%w: distance before the start of the history", ErrCorrupt)
	errNoCode         = fmt.Errorf("%w: no such code", ErrCorrupt)
	errTooManyCodes   = fmt.Errorf("%w: too many codes", ErrCorrupt)
	errCodeLengthCode = fmt.Errorf("%w: code length code", ErrCorrupt)
	errRepeatFirst    = fmt.Errorf("%w: repeat with nothing before", ErrCorrupt)
	errRepeatPast     = fmt.Errorf("%w: repeat past the code lengths", ErrCorrupt)
	errBadCode        = fmt.Errorf("%w: literal/length or distance code", ErrCorrupt)
)

// noCode is the fast table's entry for bits no code of the table starts
// with; an entry of 0 is the start of a code longer than the table.
const noCode = 0xFFF0

// A huffTable decodes one prefix code. fast holds, for every fastBits-bit
// input (the next bits in the low ones), sym<<4|len of the code it starts
// with, or 0 when that code is longer; count and symbols decode any code
// canonically (RFC 1951 §3.2.2), one bit at a time.
type huffTable struct {
	bits    uint // of the fast table's index: fastBits, or fewer for short codes
	fast    [1 << fastBits]uint16
	count   [maxCodeLen + 1]uint16
	symbols [288]uint16 // 288: the fixed code has more than a dynamic block
}

// build makes t the code of the given lengths (0 for an unused symbol). It
// reports false for a code that is over-subscribed, or incomplete unless
// it is the one code of length 1 (or none at all), as compress/flate does.
func (t *huffTable) build(lengths []uint8, tableBits uint) bool {
	t.bits = tableBits
	t.count = [maxCodeLen + 1]uint16{}
	maxLen := 0
	for _, n := range lengths {
		t.count[n]++
		maxLen = max(maxLen, int(n))
	}
	t.count[0] = 0
	// Codes left at each length: negative means over-subscribed.
	left, total := 1, 0
	var offs [maxCodeLen + 2]uint16
	for n := 1; n <= maxCodeLen; n++ {
		left = left<<1 - int(t.count[n])
		if left < 0 {
			return false
		}
		offs[n+1] = offs[n] + t.count[n]
		total += int(t.count[n])
	}
	if left > 0 && maxLen > 0 && !(total == 1 && maxLen == 1) {
		return false
	}
	// Symbols in code order: by length, then by value (RFC 1951 §3.2.2).
	for sym, n := range lengths {
		if n != 0 {
			t.symbols[offs[n]] = uint16(sym)
			offs[n]++
		}
	}
	// The fast table, a length at a time: the table for codes of up to n
	// bits is that for n-1 bits twice over (the next bit does not matter
	// to a shorter code), plus the codes of n bits, each in its one slot.
	// DEFLATE sends a code's bits first to last in the low bits, so a
	// code's slot is the code reversed. What no code fills stays 0: a
	// longer code, for the slow path.
	// In the only incomplete codes allowed (none, or a single code of
	// length 1), no code is longer than the table, so a slot no code fills
	// is input that no code starts: marked noCode, refused at once.
	t.fast[0] = 0
	if left > 0 {
		t.fast[0] = noCode
	}
	code, first := 0, 0 // the first code of length n; its symbol's index
	for n := 1; n <= int(tableBits); n++ {
		copy(t.fast[1<<(n-1):1<<n], t.fast[:1<<(n-1)])
		code = (code + int(t.count[n-1])) << 1
		first += int(t.count[n-1])
		for k, sym := range t.symbols[first : first+int(t.count[n])] {
			rev := bits.Reverse16(uint16(code+k)) >> (16 - n)
			t.fast[rev] = sym<<4 | uint16(n)
		}
	}
	return true
}

// slow decodes the code at the start of b (nb bits valid) bit by bit, and
// returns its symbol and length, or a length of 0 when nb bits do not hold
// a whole code (or no code matches them).
func (t *huffTable) slow(b uint64, nb uint) (sym int, n uint) {
	code, first, index := 0, 0, 0
	for l := uint(1); l <= maxCodeLen && l <= nb; l++ {
		code |= int(b & 1)
		b >>= 1
		count := int(t.count[l])
		if code-first < count {
			return int(t.symbols[index+code-first]), l
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, 0
}

const (
	maxLit  = 286 // literal/length codes a dynamic block may define
	maxDist = 30
)

// The order in which a dynamic block sends its code length code lengths.
var codeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// The base values of length symbols 257..285 and distance symbols 0..29
// (RFC 1951 §3.2.5); their extra bits are litExtra and distExtra.
var (
	lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	distBase   = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
)

// The fixed codes of RFC 1951 §3.2.6: literal/length symbols 0..143 in 8
// bits, 144..255 in 9, 256..279 in 7, 280..287 in 8; all 32 distance
// symbols in 5 bits (30 and 31 are refused when decoded).
var fixedLitDec, fixedDistDec = func() (lit, dist huffTable) {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	var d [32]uint8
	for i := range d {
		d[i] = 5
	}
	lit.build(l[:], fastBits)
	dist.build(d[:], fastBits)
	return lit, dist
}()
