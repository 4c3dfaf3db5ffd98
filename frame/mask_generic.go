//go:build !amd64 || purego

package frame

func maskBlocks(b []byte, k uint64) int { return maskBlocksGo(b, k) }

func maskCopyBlocks(dst, src []byte, k uint64) int { return maskCopyBlocksGo(dst, src, k) }
