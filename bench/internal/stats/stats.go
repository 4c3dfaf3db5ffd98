// Package stats holds the small statistics the benchmark needs: medians and
// percentiles of a few samples, and an allocation-free latency histogram
// that can be filled on the hot path and merged afterwards.
package stats

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// Median returns the median of xs (the mean of the two middle values for an
// even count), or NaN for no values. xs is not modified.
func Median(xs []float64) float64 {
	return Percentile(xs, 50)
}

// Percentile returns the p-th percentile (0–100) of xs by linear
// interpolation between closest ranks, or NaN for no values. xs is not
// modified.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	p = min(max(p, 0), 100)
	rank := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return s[lo] + (s[hi]-s[lo])*(rank-float64(lo))
}

// Histogram counts durations in log-linear buckets: exact below 64 ns, then
// 32 buckets per power of two, so a reported quantile is within about 3% of
// the true value. Record does not allocate; the zero value is ready.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
}

const (
	subBits     = 5 // 32 sub-buckets per power of two
	histBuckets = (64 - subBits + 1) << subBits
)

func bucketOf(v uint64) int {
	if v < 1<<(subBits+1) {
		return int(v)
	}
	exp := bits.Len64(v) - (subBits + 1) // ≥ 1
	return exp<<subBits + int(v>>exp)
}

// lowerBound is the smallest value that falls into bucket i.
func lowerBound(i int) uint64 {
	if i < 1<<(subBits+1) {
		return uint64(i)
	}
	exp := i>>subBits - 1
	mant := uint64(i - exp<<subBits)
	return mant << exp
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	h.total++
}

// Count is the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.total }

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// Quantile returns the duration below which a fraction q (0–1) of the
// recorded values lie: the middle of the bucket holding that rank. It
// returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := lowerBound(i), lowerBound(min(i+1, histBuckets-1))
			return time.Duration(lo + (hi-lo)/2)
		}
	}
	return time.Duration(lowerBound(histBuckets - 1))
}
