//go:build !js

package wsproto

import (
	"slices"
	"sync"
)

// Buffers are lent to a connection while it reads a frame or writes a
// message and taken back when it is idle, so that an idle connection holds
// none (see the package doc). One pool serves each buffer size.
var pools sync.Map // int -> *sync.Pool of *[]byte

func poolFor(size int) *sync.Pool {
	if p, ok := pools.Load(size); ok {
		return p.(*sync.Pool)
	}
	p, _ := pools.LoadOrStore(size, &sync.Pool{New: func() any {
		b := make([]byte, size)
		return &b
	}})
	return p.(*sync.Pool)
}

// growMessage returns dst with room for at least n more bytes, as
// slices.Grow does, for a message ReadMessage is reading.
//
// A buffer of bigMessage or more starts half a page into its allocation.
// Go places such allocations on page boundaries, and the kernel fills a
// socket's fresh pages from their start; a message read here and then
// written back (an echo, a relay) would leave the header it is sent with
// just ahead of a page-aligned payload, and the kernel's copy of it into
// the socket runs with its loads trailing its stores by the header's length
// (4 or 10 bytes) modulo the page size, where the CPU takes loads for reads
// of the bytes just stored (4K aliasing). On the machine of
// bench/README.md that copy cost a 1 MiB echo 15–20% more CPU than one
// whose payload starts mid-page.
func growMessage(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	if len(dst)+n < bigMessage {
		return slices.Grow(dst, n)
	}
	b := slices.Grow([]byte(nil), pageSkew+len(dst)+n)
	b = b[pageSkew:cap(b)]
	return b[:copy(b, dst)]
}

const (
	bigMessage = 64 << 10
	pageSkew   = 2 << 10
)
