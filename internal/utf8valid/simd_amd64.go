//go:build amd64 && !purego

package utf8valid

// The processor's vector units, read once with CPUID: AVX2 needs the
// instruction set and an operating system that saves the YMM registers.
var haveAVX2, haveSSSE3 = features()

var haveSIMD = haveAVX2 || haveSSSE3

// simdMin is the shortest piece given to the vector unit: one whole block.
// Shorter ones go through the automaton, which has no tables to load and
// no tail to pad.
const simdMin = 32

func validSIMD(p []byte) bool {
	if haveAVX2 {
		return validAVX2(p)
	}
	return validSSSE3(p)
}

func features() (avx2, ssse3 bool) {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 1 {
		return false, false
	}
	_, _, c1, _ := cpuid(1, 0)
	ssse3 = c1&(1<<9) != 0
	osxsave, avx := c1&(1<<27) != 0, c1&(1<<28) != 0
	if maxLeaf < 7 || !osxsave || !avx || xgetbv()&6 != 6 {
		return false, ssse3
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0, ssse3
}

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

func xgetbv() uint32

// validAVX2 and validSSSE3 report whether p is entirely valid UTF-8, 32 or
// 16 bytes per step; the last step reads a zero-padded copy of the tail, so
// that a sequence cut short at the end is caught like any other.
//
//go:noescape
func validAVX2(p []byte) bool

//go:noescape
func validSSSE3(p []byte) bool
