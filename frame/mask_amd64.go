//go:build amd64 && !purego

package frame

// maskBlocks XORs the whole 64-byte blocks at the start of b with k
// repeated, 16 bytes per SSE2 instruction, and returns how many bytes it
// did (len(b) rounded down to a multiple of 64).
//
//go:noescape
func maskBlocks(b []byte, k uint64) int

// maskCopyBlocks is maskBlocks from src into dst (len(dst) >= len(src)).
// Each block is loaded whole before it is stored, so dst may start at or
// before src in the same buffer.
//
//go:noescape
func maskCopyBlocks(dst, src []byte, k uint64) int
