package results

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample() Record {
	return Record{
		Round: 2, Scenario: "1x64B-w1", Lib: "ours, \"quoted\"",
		Mode: "echo", Conns: 1, InFlight: 64, Size: 64, Text: true, Deflate: false,
		Seconds: 5, Msgs: 1000, MsgsPerSec: 200, MBPerSec: 0.0128, P50us: 12.5, P99us: 40.25, Errors: 0,
		ServerCPU: 99.5, LoadCPU: 40, RSSBeforeKB: 8000, RSSAfterKB: 9000, RSSPerConnB: 1024,
		Handshakes: 1, HandshakesPerSec: 0.2,
	}
}

func TestFieldsMatchHeader(t *testing.T) {
	assert.Len(t, sample().Fields(), len(Header))
}

func TestWriteReadRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, true)
	a, b := sample(), sample()
	b.Round, b.Lib, b.Mode = 3, "gws", "idle"
	require.NoError(t, w.Write(a))
	require.NoError(t, w.Write(b))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, strings.Join(Header, ","), lines[0])
	assert.Contains(t, lines[1], `"ours, ""quoted"""`, "fields with commas and quotes are quoted")

	got, err := Read(&buf)
	require.NoError(t, err)
	assert.Equal(t, []Record{a, b}, got)
}

func TestAppendWithoutHeader(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, NewWriter(&buf, false).Write(sample()))
	assert.NotContains(t, buf.String(), "round,")
}

func TestParseErrors(t *testing.T) {
	_, err := Parse([]string{"1"})
	require.Error(t, err)
	f := sample().Fields()
	f[4] = "many"
	_, err = Parse(f)
	require.ErrorContains(t, err, "conns")
	_, err = Read(strings.NewReader("a,b\n"))
	require.Error(t, err)
}

func TestMetric(t *testing.T) {
	r := sample()
	v, name, up := r.Metric()
	assert.Equal(t, 200.0, v)
	assert.Equal(t, "msgs/s", name)
	assert.True(t, up)
	r.Mode = "idle"
	v, _, up = r.Metric()
	assert.Equal(t, 1024.0, v)
	assert.False(t, up)
	r.Mode = "upgrades"
	v, _, _ = r.Metric()
	assert.Equal(t, 0.2, v)
}

func TestServerCPUPerOp(t *testing.T) {
	r := sample()
	assert.InDelta(t, 4975.0, r.ServerCPUPerOp(), 1e-9, "0.995 × 5 s / 1000 messages")
	r.Mode = "upgrades"
	assert.InDelta(t, 4.975e6, r.ServerCPUPerOp(), 1e-3, "per handshake")
	r.Mode = "idle"
	assert.True(t, math.IsNaN(r.ServerCPUPerOp()))
	r.Mode, r.Msgs = "echo", 0
	assert.True(t, math.IsNaN(r.ServerCPUPerOp()))
}
