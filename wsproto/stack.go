//go:build !js

package wsproto

// growStack grows the calling goroutine's stack from the smallest size Go
// starts one with to twice that, if it is not that large already.
//
// A stack grows by being copied, and the copy costs more the more frames
// are on it: each is walked and its pointers adjusted. The handshake and
// the answer to a peer's close each need more than a fresh goroutine's
// stack, and they run deep, so the growth came where the copy is dear.
// Called first thing, with a frame or two on the stack, the same growth
// costs a fraction of that: in a profile of the harness's upgrades
// scenario, stack growth takes 3.3–3.5% of the server's CPU with it and
// 5.8–6.1% without (bench/README.md, "The optimisations, measured again"). The connection's goroutine grows only once its close
// is answered, so idle connections keep their small stacks.
//
//go:noinline
func growStack() {
	var pad [1536]byte // more than a 2 KiB stack leaves above its guard
	touch(&pad)
}

//go:noinline
func touch(*[1536]byte) {}
