//go:build !js

package wsproto

import "sync/atomic"

// signal is a one-shot event, like a channel that is closed once, whose
// channel is made only when a goroutine has to wait for it: most
// connections end without anyone waiting, and an idle connection then holds
// no channel.
type signal struct {
	ch atomic.Pointer[chan struct{}] // nil until waited on or fired
}

// firedChan stands for the channel of a signal fired before anyone waited.
var firedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// done returns a channel that is closed once the signal fires.
func (s *signal) done() <-chan struct{} {
	if p := s.ch.Load(); p != nil {
		return *p
	}
	ch := make(chan struct{})
	if s.ch.CompareAndSwap(nil, &ch) {
		return ch
	}
	return *s.ch.Load()
}

// fire closes the channel, or marks the signal fired if none was made.
// Firing again does nothing.
func (s *signal) fire() {
	for {
		p := s.ch.Load()
		if p == &firedChan {
			return
		}
		if s.ch.CompareAndSwap(p, &firedChan) {
			if p != nil {
				close(*p)
			}
			return
		}
	}
}

// fired reports whether fire has been called.
func (s *signal) fired() bool { return s.ch.Load() == &firedChan }

// wakeList lets goroutines wait for the next release of a lock: they wait on
// a channel that the next release closes, made only while someone waits.
type wakeList struct {
	ch atomic.Pointer[chan struct{}]
}

// wait returns the channel the next wakeAll closes.
func (w *wakeList) wait() <-chan struct{} {
	for {
		if p := w.ch.Load(); p != nil {
			return *p
		}
		ch := make(chan struct{})
		if w.ch.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// wakeAll wakes every goroutine waiting; it costs a load when none is.
func (w *wakeList) wakeAll() {
	if w.ch.Load() == nil {
		return
	}
	if p := w.ch.Swap(nil); p != nil {
		close(*p)
	}
}
