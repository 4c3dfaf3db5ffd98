//go:build !js

package main

import "math/rand/v2"

// notice is what a client is told about its pairing.
type notice int

const (
	noticeWaiting notice = iota + 1 // no partner: waiting for one
	noticePaired                    // a new partner
	noticeLeft                      // the partner left or pressed next
)

func (n notice) String() string {
	switch n {
	case noticeWaiting:
		return "waiting"
	case noticePaired:
		return "paired"
	case noticeLeft:
		return "left"
	}
	return "notice(?)"
}

// event is a notice for one client. The events a matcher returns must be
// delivered in order: a client told noticeLeft is told noticeWaiting or
// noticePaired right after, in the same batch.
type event[K comparable] struct {
	To   K
	What notice
}

// matcher pairs clients two by two, knowing nothing of connections. A
// client is either free (waiting for a partner) or paired; a free client is
// paired at once with a free one picked at random, so in steady state at
// most one client waits. Next is the only way two clients part without one
// of them leaving: they avoid each other while anyone else is free, and are
// paired again only when no one else is.
//
// A matcher is not safe for concurrent use; its caller serializes the calls
// and delivers the events they return.
type matcher[K comparable] struct {
	intn    func(n int) int // a random index in [0, n)
	free    []K             // in no particular order
	partner map[K]K
}

func newMatcher[K comparable]() *matcher[K] {
	return &matcher[K]{intn: rand.IntN, partner: map[K]K{}}
}

// Join adds k and pairs it with a free client if there is one. Joining
// twice is a no-op.
func (m *matcher[K]) Join(k K) []event[K] {
	if m.known(k) {
		return nil
	}
	return m.match(nil, k, k, false)
}

// Leave removes k. Its partner, if it had one, is told and paired again
// with someone free, or waits.
func (m *matcher[K]) Leave(k K) []event[K] {
	if m.removeFree(k) {
		return nil
	}
	p, ok := m.partner[k]
	if !ok {
		return nil
	}
	delete(m.partner, k)
	delete(m.partner, p)
	return m.match([]event[K]{{p, noticeLeft}}, p, k, false)
}

// Next drops k's partner, who is told, and pairs both again, each with
// someone else if anyone else is free. For a free k it does nothing.
func (m *matcher[K]) Next(k K) []event[K] {
	p, ok := m.partner[k]
	if !ok {
		return nil
	}
	delete(m.partner, k)
	delete(m.partner, p)
	evs := []event[K]{{p, noticeLeft}}
	// p is free, but silently, before k looks for a partner: if no one else
	// is, k gets p back at once rather than both waiting for nothing.
	m.free = append(m.free, p)
	evs = m.match(evs, k, p, true)
	if m.removeFree(p) {
		evs = m.match(evs, p, k, true)
	}
	return evs
}

// Partner returns k's partner, if it has one.
func (m *matcher[K]) Partner(k K) (K, bool) {
	p, ok := m.partner[k]
	return p, ok
}

// match pairs the free-to-be k with a free client chosen at random, other
// than avoid if anyone else is free, or makes k wait. It appends the
// notices to evs.
func (m *matcher[K]) match(evs []event[K], k, avoid K, hasAvoid bool) []event[K] {
	var candidates []int
	fallback := -1
	for i, f := range m.free {
		switch {
		case f == k:
		case hasAvoid && f == avoid:
			fallback = i
		default:
			candidates = append(candidates, i)
		}
	}
	i := fallback
	if len(candidates) > 0 {
		i = candidates[m.intn(len(candidates))]
	}
	if i < 0 {
		m.free = append(m.free, k)
		return append(evs, event[K]{k, noticeWaiting})
	}
	p := m.free[i]
	m.removeFree(p)
	m.partner[k], m.partner[p] = p, k
	return append(evs, event[K]{k, noticePaired}, event[K]{p, noticePaired})
}

func (m *matcher[K]) known(k K) bool {
	_, paired := m.partner[k]
	return paired || m.isFree(k)
}

func (m *matcher[K]) isFree(k K) bool {
	for _, f := range m.free {
		if f == k {
			return true
		}
	}
	return false
}

// removeFree takes k out of the free clients and reports whether it was
// one. The list is short (see matcher), so a scan is cheapest.
func (m *matcher[K]) removeFree(k K) bool {
	for i, f := range m.free {
		if f == k {
			last := len(m.free) - 1
			m.free[i] = m.free[last]
			var zero K
			m.free[last] = zero
			m.free = m.free[:last]
			return true
		}
	}
	return false
}
