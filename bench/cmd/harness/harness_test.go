package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/db7c6739/ws/bench/internal/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSummarizeAndCharts(t *testing.T) {
	scs := scenarios(100, 10, 2)
	libs := []string{"ours", "gorilla", "gws", "tcp"}
	var recs []results.Record
	add := func(sc, mode, lib string, round int, v float64) {
		r := results.Record{Round: round, Scenario: sc, Lib: lib, Mode: mode}
		switch mode {
		case "idle":
			r.RSSPerConnB = v
		case "upgrades":
			r.HandshakesPerSec = v
		default:
			r.MsgsPerSec = v
		}
		recs = append(recs, r)
	}
	for round, scale := range []float64{1, 3, 2} { // medians are the scale-2 values
		add("1x64B-w1", "echo", "ours", round, 90*scale)
		add("1x64B-w1", "echo", "gorilla", round, 50*scale)
		add("1x64B-w1", "echo", "gws", round, 60*scale)
		add("1x64B-w1", "echo", "tcp", round, 100*scale)
		add("idle", "idle", "ours", round, 3000*scale)
		add("idle", "idle", "gorilla", round, 9000*scale)
		add("idle", "idle", "gws", round, 6000*scale)
		add("idle", "idle", "tcp", round, 2500*scale)
	}
	rows := summarize(recs, scs, libs)
	require.Len(t, rows, 8)
	byKey := map[string]row{}
	for _, r := range rows {
		byKey[r.scenario+"/"+r.lib] = r
	}
	ours := byKey["1x64B-w1/ours"]
	assert.Equal(t, 3, ours.runs)
	assert.InDelta(t, 180, ours.metric, 1e-9)
	assert.InDelta(t, 1, ours.spread, 1e-9, "(270-90)/180")
	assert.InDelta(t, 0.9, ours.vsTCP, 1e-9)
	assert.InDelta(t, 1.5, ours.vsPeer, 1e-9, "best peer is gws")
	idle := byKey["idle/ours"]
	assert.InDelta(t, 1.2, idle.vsTCP, 1e-9)
	assert.InDelta(t, 0.5, idle.vsPeer, 1e-9, "best peer for memory is the smallest, gws")

	ps := pairs(recs, scs, libs)
	require.Len(t, ps, 6, "3 other servers × 2 scenarios")
	byPair := map[string]pair{}
	for _, p := range ps {
		byPair[p.scenario+"/"+p.lib] = p
	}
	// Every round has ours at 0.9x tcp, 1.8x gorilla, 1.5x gws, and at 1.2x
	// tcp's memory, a third of gorilla's.
	assert.InDelta(t, 0.9, byPair["1x64B-w1/tcp"].ratio, 1e-9)
	assert.Equal(t, 0, byPair["1x64B-w1/tcp"].wins)
	assert.Equal(t, 3, byPair["1x64B-w1/tcp"].rounds)
	assert.InDelta(t, 1.8, byPair["1x64B-w1/gorilla"].ratio, 1e-9)
	assert.Equal(t, 3, byPair["1x64B-w1/gorilla"].wins)
	assert.InDelta(t, 3, byPair["idle/gorilla"].ratio, 1e-9, "lower is better: gorilla's over ours")
	assert.InDelta(t, 1/1.2, byPair["idle/tcp"].ratio, 1e-9)
	var out strings.Builder
	printPairs(&out, ps)
	assert.Contains(t, out.String(), "gorilla 1.80 (3/3)")

	dir := t.TempDir()
	require.NoError(t, drawCharts(dir, rows, scs, libs))
	for _, name := range []string{"throughput.svg", "idle.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Contains(t, string(b), "<svg")
	}
}

func TestPick(t *testing.T) {
	got, err := pick("b, a", []string{"a", "b", "c"}, func(s string) string { return s })
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a"}, got)
	_, err = pick("z", []string{"a"}, func(s string) string { return s })
	assert.ErrorContains(t, err, "unknown")
}

func TestRotate(t *testing.T) {
	libs := []string{"a", "b", "c"}
	assert.Equal(t, []string{"a", "b", "c"}, rotate(libs, 0))
	assert.Equal(t, []string{"b", "c", "a"}, rotate(libs, 1))
	assert.Equal(t, []string{"c", "a", "b"}, rotate(libs, 5))
	assert.Equal(t, []string{"a", "b", "c"}, libs, "the list itself is left as it was")
}
