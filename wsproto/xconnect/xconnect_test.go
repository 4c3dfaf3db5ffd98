package xconnect

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithSetting(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		changed bool
	}{
		{"", "http2xconnect=1", true},
		{"gctrace=1", "gctrace=1,http2xconnect=1", true},
		{"http2xconnect=0", "http2xconnect=0", false},
		{"x=1,http2xconnect=1", "x=1,http2xconnect=1", false},
	} {
		out, changed := withSetting(tc.in)
		assert.Equal(t, tc.out, out, tc.in)
		assert.Equal(t, tc.changed, changed, tc.in)
	}
}

// This test binary imports the package: its init has run.
func TestEnabled(t *testing.T) {
	assert.True(t, Enabled())
}
