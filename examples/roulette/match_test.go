//go:build !js

package main

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ev = event[string]

func TestMatcher(t *testing.T) {
	tests := []struct {
		name  string
		steps func(m *matcher[string]) []ev // the events of the last step
		want  []ev
		pairs map[string]string // expected partners afterwards
		free  []string
	}{
		{
			name:  "first waits",
			steps: func(m *matcher[string]) []ev { return m.Join("a") },
			want:  []ev{{"a", noticeWaiting}},
			free:  []string{"a"},
		},
		{
			name: "second is paired with the first",
			steps: func(m *matcher[string]) []ev {
				m.Join("a")
				return m.Join("b")
			},
			want:  []ev{{"b", noticePaired}, {"a", noticePaired}},
			pairs: map[string]string{"a": "b"},
		},
		{
			name: "third waits",
			steps: func(m *matcher[string]) []ev {
				m.Join("a")
				m.Join("b")
				return m.Join("c")
			},
			want:  []ev{{"c", noticeWaiting}},
			pairs: map[string]string{"a": "b"},
			free:  []string{"c"},
		},
		{
			name: "joining twice changes nothing",
			steps: func(m *matcher[string]) []ev {
				m.Join("a")
				m.Join("b")
				return m.Join("a")
			},
			pairs: map[string]string{"a": "b"},
		},
		{
			name: "leave: the one left alone is paired with the waiting one",
			steps: func(m *matcher[string]) []ev {
				m.Join("a")
				m.Join("b")
				m.Join("c")
				return m.Leave("a")
			},
			want:  []ev{{"b", noticeLeft}, {"b", noticePaired}, {"c", noticePaired}},
			pairs: map[string]string{"b": "c"},
		},
		{
			name: "leave: the one left alone waits when no one is free",
			steps: func(m *matcher[string]) []ev {
				m.Join("a")
				m.Join("b")
				return m.Leave("b")
			},
			want: []ev{{"a", noticeLeft}, {"a", noticeWaiting}},
			free: []string{"a"},
		},
		{
			name: "leave while waiting tells no one",
			steps: func(m *matcher[string]) []ev {
				m.Join("a")
				m.Join("b")
				m.Join("c")
				return m.Leave("c")
			},
			pairs: map[string]string{"a": "b"},
		},
		{
			name:  "leave of a stranger",
			steps: func(m *matcher[string]) []ev { return m.Leave("x") },
		},
		{
			name: "next: pairs with the free one, the dropped one waits",
			steps: func(m *matcher[string]) []ev {
				m.Join("a")
				m.Join("b")
				m.Join("c")
				return m.Next("a")
			},
			want:  []ev{{"b", noticeLeft}, {"a", noticePaired}, {"c", noticePaired}, {"b", noticeWaiting}},
			pairs: map[string]string{"a": "c"},
			free:  []string{"b"},
		},
		{
			name: "next: the same partner again when no one else is free",
			steps: func(m *matcher[string]) []ev {
				m.Join("a")
				m.Join("b")
				return m.Next("a")
			},
			want:  []ev{{"b", noticeLeft}, {"a", noticePaired}, {"b", noticePaired}},
			pairs: map[string]string{"a": "b"},
		},
		{
			name: "next while waiting",
			steps: func(m *matcher[string]) []ev {
				m.Join("a")
				return m.Next("a")
			},
			free: []string{"a"},
		},
		{
			name:  "next of a stranger",
			steps: func(m *matcher[string]) []ev { return m.Next("x") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMatcher[string]()
			assert.Equal(t, tt.want, tt.steps(m))
			for a, b := range tt.pairs {
				p, ok := m.Partner(a)
				assert.True(t, ok, a)
				assert.Equal(t, b, p)
				p, ok = m.Partner(b)
				assert.True(t, ok, b)
				assert.Equal(t, a, p)
			}
			assert.Len(t, m.partner, 2*len(tt.pairs))
			assert.ElementsMatch(t, tt.free, m.free)
		})
	}
}

// Free clients pile up only if pairing is deferred, which this matcher
// never does; the pick among them is uniform all the same, and never the
// newcomer itself.
func TestMatcherPicksAtRandom(t *testing.T) {
	free := []string{"a", "b", "c", "d", "e"}
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	const trials = 5000
	for range trials {
		m := newMatcher[string]()
		m.intn = rng.IntN
		m.free = append([]string(nil), free...)
		evs := m.Join("z")
		require.Len(t, evs, 2)
		assert.Equal(t, ev{"z", noticePaired}, evs[0])
		counts[evs[1].To]++
		assert.Len(t, m.free, len(free)-1)
		assert.NotContains(t, m.free, evs[1].To)
	}
	for _, f := range free {
		assert.InDelta(t, trials/len(free), counts[f], float64(trials/len(free)/5), "picked %s", f)
	}
	assert.Zero(t, counts["z"])
}

// TestMatcherInvariants runs random joins, leaves and nexts and checks
// after each one that partners are mutual and never oneself, that a client
// is either free or paired, that no two clients wait while they could talk,
// and that every notice is followed by the state it announces.
func TestMatcherInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := newMatcher[int]()
	m.intn = rng.IntN
	present := map[int]bool{}
	for step := range 20_000 {
		k := rng.IntN(12)
		var evs []event[int]
		switch op := rng.IntN(3); {
		case op == 0 && !present[k]:
			evs = m.Join(k)
			present[k] = true
		case op == 1 && present[k]:
			evs = m.Leave(k)
			delete(present, k)
		default:
			evs = m.Next(k)
		}

		paired, free := 0, map[int]bool{}
		for _, f := range m.free {
			require.False(t, free[f], "step %d: %d free twice", step, f)
			free[f] = true
		}
		for a := range present {
			p, ok := m.Partner(a)
			if ok {
				paired++
				require.NotEqual(t, a, p, "step %d: paired with oneself", step)
				back, _ := m.Partner(p)
				require.Equal(t, a, back, "step %d: partners not mutual", step)
				require.True(t, present[p], "step %d: paired with someone gone", step)
			}
			require.True(t, ok != free[a], "step %d: %d must be free or paired", step, a)
		}
		require.Len(t, m.partner, paired, "step %d", step)
		require.Equal(t, len(present), paired+len(free), "step %d", step)
		require.LessOrEqual(t, len(free), 1, "step %d: two wait while they could talk", step)

		// The last notice each client gets says where it stands.
		last := map[int]notice{}
		for _, e := range evs {
			require.True(t, present[e.To], "step %d: notice for %d who is gone", step, e.To)
			last[e.To] = e.What
		}
		for c, n := range last {
			_, ok := m.Partner(c)
			switch n {
			case noticePaired:
				require.True(t, ok, "step %d", step)
			case noticeWaiting:
				require.True(t, free[c], "step %d", step)
			default:
				t.Fatalf("step %d: %d was last told %v", step, c, n)
			}
		}
	}
}
