package stats

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedianAndPercentile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"one", []float64{7}, 50, 7},
		{"odd", []float64{3, 1, 2}, 50, 2},
		{"even", []float64{4, 1, 3, 2}, 50, 2.5},
		{"p0", []float64{5, 1, 9}, 0, 1},
		{"p100", []float64{5, 1, 9}, 100, 9},
		{"p99 interpolates", []float64{0, 100}, 99, 99},
		{"p90 of 1..11", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 90, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, Percentile(tt.xs, tt.p), 1e-9)
		})
	}
	assert.True(t, math.IsNaN(Median(nil)))
	xs := []float64{3, 1, 2}
	assert.Equal(t, 2.0, Median(xs))
	assert.Equal(t, []float64{3, 1, 2}, xs, "input left as it was")
}

func TestBuckets(t *testing.T) {
	// Every value falls in a bucket whose bounds hold it, and buckets are
	// contiguous and increasing.
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 123456, 1 << 40, math.MaxInt64} {
		i := bucketOf(v)
		require.Less(t, i, histBuckets, "value %d", v)
		assert.LessOrEqual(t, lowerBound(i), v, "value %d", v)
		if i+1 < histBuckets {
			assert.Greater(t, lowerBound(i+1), v, "value %d", v)
		}
	}
	for i := 1; i < histBuckets; i++ {
		require.Greater(t, lowerBound(i), lowerBound(i-1), "bucket %d", i)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	assert.Zero(t, h.Quantile(0.5))
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	require.EqualValues(t, 1000, h.Count())
	assert.InEpsilon(t, float64(500*time.Microsecond), float64(h.Quantile(0.5)), 0.04)
	assert.InEpsilon(t, float64(990*time.Microsecond), float64(h.Quantile(0.99)), 0.04)
	assert.InEpsilon(t, float64(1000*time.Microsecond), float64(h.Quantile(1)), 0.04)

	var other Histogram
	for range 1000 {
		other.Record(10 * time.Millisecond)
	}
	h.Merge(&other)
	assert.EqualValues(t, 2000, h.Count())
	assert.InEpsilon(t, float64(10*time.Millisecond), float64(h.Quantile(0.99)), 0.04)
	h.Record(-time.Second)
	assert.EqualValues(t, 2001, h.Count())
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	assert.Zero(t, testing.AllocsPerRun(100, func() { h.Record(time.Millisecond) }))
}
