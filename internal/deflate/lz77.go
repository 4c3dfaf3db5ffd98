package deflate

import (
	"encoding/binary"
	"math/bits"
)

// hashMul is 2^32 divided by the golden ratio: multiplying by it spreads
// four input bytes over the high bits of the product (Fibonacci hashing).
const hashMul = 0x9e3779b1

// hash4 returns the bucket of the four bytes in x.
func hash4(x uint32, shift uint8) uint32 {
	return (x * hashMul) >> shift
}

// insert makes pos the newest position of bucket h, in place of the
// oldest. A bucket is a ring: its positions from slot heads[h] on, newest
// first.
func insert(table []int32, heads []uint8, h uint32, waysBits uint8, pos int32) {
	if waysBits == 0 {
		table[h] = pos
		return
	}
	k := (heads[h] - 1) & (1<<waysBits - 1)
	heads[h] = k
	table[h<<waysBits|uint32(k)] = pos
}

// A token is a match and the literals before it: run<<runShift |
// (length-3)<<lenShift | distance-1, where run counts the literals, at most
// maxRun, and length 3 (which the encoder never emits) stands for no match.
// The literals themselves are the input bytes before the match.
const (
	runShift = 23
	lenShift = 15
	maxRun   = 1<<(32-runShift) - 1
)

// encode turns hist[start:] into tokens (RFC 1951 §4 describes the idea):
// at each position it looks up the positions its next four bytes hash to
// (and the distance of the previous match), takes the longest match among
// those that lie within the window and really match (up to 258 bytes, and
// no further than hist reaches; of equal ones the nearest), and emits it,
// or a literal if none matches. With w.lazy, a match waits one position: if
// the next one starts a longer match, a literal goes out instead and that
// match waits in turn. Matches reach at most w.window bytes back, never
// before base (the last Reset) and never into bytes not yet encoded.
//
// Every match is at least minMatch bytes long: w.tokens must have room for
// a token per minMatch bytes of hist[start:], and one per maxRun literals.
// Literals not yet followed by a match are counted in w.run.
func (w *Writer) encode(start int) {
	hist := w.hist
	end := len(hist)
	table, heads := w.table, w.heads
	shift, waysBits := w.hashShift, w.waysBits
	ways := 1 << waysBits
	mask := uint32(ways - 1)
	base := w.base
	window := int(w.window)
	nice := int(w.nice)
	lazy := w.lazy
	insertMax := int(w.insertMax)
	tokens := w.tokens
	run := w.run
	litFreq, distFreq := &w.litFreq, &w.distFreq

	// The last bytes before start had too few bytes after them to be
	// hashed when they were encoded; now they may have enough.
	for k := max(start-(minMatch-1), 0); k < start && k+minMatch <= end; k++ {
		insert(table, heads, hash4(binary.LittleEndian.Uint32(hist[k:]), shift), waysBits, base+int32(k))
	}

	i := start
	lastDist := 0             // of the last match in this call, within the window
	misses := 0               // lookups without a match since the last match
	pendLen, pendDist := 0, 0 // with lazy: a match at i-1 not yet emitted
	for i+minMatch <= end {
		x := binary.LittleEndian.Uint32(hist[i:])
		h := hash4(x, shift)
		avail := min(end-i, maxMatch)
		bestLen, bestDist := 0, 0
		// The distance of the last match is tried first: a message much
		// like an earlier one repeats at one distance, where the table
		// may hold nearer, shorter occurrences.
		if r := i - lastDist; lastDist > 0 && r >= 0 && binary.LittleEndian.Uint32(hist[r:]) == x {
			bestLen = minMatch + matchLen(hist[r+minMatch:], hist[i+minMatch:i+avail])
			bestDist = lastDist
		}
		head := uint32(0)
		if waysBits > 0 {
			head = uint32(heads[h])
		}
		for j := range uint32(ways) {
			if bestLen >= nice || bestLen == avail {
				break
			}
			p := table[h<<waysBits|(head+j)&mask]
			// Positions are newest first: once one is stale or lies
			// beyond the window, so do the rest.
			cand := int(p - base)
			dist := i - cand
			if cand < 0 || dist > window {
				break
			}
			// The byte that would make a match longer than the best
			// decides most candidates at once.
			if hist[cand+bestLen] != hist[i+bestLen] || binary.LittleEndian.Uint32(hist[cand:]) != x {
				continue
			}
			n := minMatch + matchLen(hist[cand+minMatch:], hist[i+minMatch:i+avail])
			if n > bestLen || n == bestLen && dist < bestDist {
				bestLen, bestDist = n, dist
			}
		}
		insert(table, heads, h, waysBits, base+int32(i))

		unhashed := i + 1 // the first position of the match not in the table
		if pendLen > 0 {
			if bestLen > pendLen {
				// A literal for i-1; the match at i waits in turn, unless
				// it is long enough already.
				litFreq[hist[i-1]]++
				if run++; run == maxRun {
					tokens = append(tokens, maxRun<<runShift)
					run = 0
				}
				if bestLen < nice {
					pendLen, pendDist = bestLen, bestDist
					i++
					continue
				}
				pendLen = 0
			} else {
				// The match at i-1 it is.
				i--
				bestLen, bestDist = pendLen, pendDist
				pendLen = 0
				unhashed = i + 2
			}
		} else if bestLen == 0 {
			// Where nothing matches, as in data that does not compress,
			// look up ever fewer positions: after 64 misses every other
			// one, after 128 every third, and so on. The bytes between go
			// out as literals all the same.
			step := 1 + misses>>6
			misses++
			for stop := min(i+step, end); i < stop; i++ {
				litFreq[hist[i]]++
				if run++; run == maxRun {
					tokens = append(tokens, maxRun<<runShift)
					run = 0
				}
			}
			continue
		} else if lazy && bestLen < nice && bestLen < avail {
			pendLen, pendDist = bestLen, bestDist
			i++
			continue
		}

		misses = 0
		lastDist = bestDist
		tokens = append(tokens, uint32(run)<<runShift|uint32(bestLen-3)<<lenShift|uint32(bestDist-1))
		run = 0
		litFreq[lengthSym[bestLen]]++
		dc, _, _ := distCode(uint32(bestDist))
		distFreq[dc]++
		// Hash the positions inside the match too, so that later matches
		// can start there; after a long match at a fast level only the
		// last few, which cost less and serve almost as well.
		last := min(i+bestLen, end-minMatch+1)
		if bestLen > insertMax {
			unhashed = max(unhashed, last-minMatch)
		}
		for k := unhashed; k < last; k++ {
			insert(table, heads, hash4(binary.LittleEndian.Uint32(hist[k:]), shift), waysBits, base+int32(k))
		}
		i += bestLen
	}
	if pendLen > 0 {
		// Too near the end for another lookup: the waiting match goes out.
		tokens = append(tokens, uint32(run)<<runShift|uint32(pendLen-3)<<lenShift|uint32(pendDist-1))
		run = 0
		litFreq[lengthSym[pendLen]]++
		dc, _, _ := distCode(uint32(pendDist))
		distFreq[dc]++
		i += pendLen - 1
	}
	for ; i < end; i++ {
		litFreq[hist[i]]++
		if run++; run == maxRun {
			tokens = append(tokens, maxRun<<runShift)
			run = 0
		}
	}
	w.tokens = tokens
	w.run = run
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
