package wsproto

import "sync"

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
