package deflate

import (
	"encoding/binary"
	"math/bits"
)

// hashMul is 2^32 divided by the golden ratio: multiplying by it spreads
// four input bytes over the high bits of the product (Fibonacci hashing).
const hashMul = 0x9e3779b1

// hash4 returns the table index of the four bytes in x.
func hash4(x uint32, shift uint8) uint32 {
	return (x * hashMul) >> shift
}

// encode emits hist[start:] as fixed-Huffman symbols, greedily: at each
// position it looks up the last occurrence of the next four bytes (or
// takes the distance of the previous match, if the bytes there match), and
// if that lies within the window and really matches, emits the longest
// match from there (up to 258 bytes, and no further than hist reaches),
// otherwise a literal (RFC 1951 §4 describes the idea). Matches reach at most
// w.window bytes back, never before base (the last Reset) and never into
// bytes not yet encoded.
func (w *Writer) encode(dst []byte, start int) []byte {
	hist := w.hist
	end := len(hist)
	table := w.table
	shift := w.hashShift
	base := w.base
	window := uint(w.window)
	bb := w.bb

	// The last bytes before start had too few bytes after them to be
	// hashed when they were encoded; now they may have enough.
	for k := max(start-(minMatch-1), 0); k < start && k+minMatch <= end; k++ {
		table[hash4(binary.LittleEndian.Uint32(hist[k:]), shift)] = base + int32(k)
	}

	i := start
	lastDist := 0 // of the last match in this call, within the window
	misses := 0   // lookups without a match since the last match
	for i+minMatch <= end {
		x := binary.LittleEndian.Uint32(hist[i:])
		h := hash4(x, shift)
		cand := int(table[h] - base) // negative if stale
		table[h] = base + int32(i)
		// The distance of the last match is tried first: a message much
		// like an earlier one repeats at one distance, where the table
		// may hold a nearer, shorter occurrence.
		if r := i - lastDist; lastDist > 0 && r >= 0 && binary.LittleEndian.Uint32(hist[r:]) == x {
			cand = r
		}
		// A stale entry lies before hist; a fresh one must lie 1..window
		// bytes back.
		dist := i - cand
		if cand < 0 || uint(dist-1) >= window || binary.LittleEndian.Uint32(hist[cand:]) != x {
			// Where nothing matches, as in data that does not compress,
			// look up ever fewer positions: after 64 misses every other
			// one, after 128 every third, and so on. The bytes between go
			// out as literals all the same.
			step := 1 + misses>>6
			misses++
			for stop := min(i+step, end); i < stop; i++ {
				c := literalCodes[hist[i]]
				dst = bb.put(dst, c.bits, c.n)
			}
			continue
		}
		misses = 0
		lastDist = dist
		n := minMatch + matchLen(hist[cand+minMatch:], hist[i+minMatch:min(end, i+maxMatch)])
		lc := lengthCodes[n]
		dc, extra, nExtra := distCode(uint32(dist))
		// A length code with its extra bits takes at most 8+5 bits and a
		// distance code with its extra bits at most 5+13: one put.
		dst = bb.put(dst, lc.bits|(distCodes[dc]|extra<<5)<<lc.n, lc.n+5+nExtra)
		// Hash the positions inside the match too, so that later matches
		// can start there.
		for k, last := i+1, min(i+n, end-minMatch+1); k < last; k++ {
			table[hash4(binary.LittleEndian.Uint32(hist[k:]), shift)] = base + int32(k)
		}
		i += n
	}
	for ; i < end; i++ {
		c := literalCodes[hist[i]]
		dst = bb.put(dst, c.bits, c.n)
	}
	w.bb = bb
	return dst
}

// matchLen returns how many leading bytes of b equal those of a, which is
// at least as long as b. It compares eight bytes at a time.
func matchLen(a, b []byte) int {
	n := 0
	for n+8 <= len(b) {
		if x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:]); x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
