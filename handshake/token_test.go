package handshake

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsTokenChar(t *testing.T) {
	// RFC 9110 §5.6.2, spelled out.
	const tchars = "!#$%&'*+-.^_`|~0123456789" +
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for c := 0; c < 256; c++ {
		assert.Equal(t, strings.IndexByte(tchars, byte(c)) >= 0, isTokenChar(byte(c)), "byte %#02x", c)
	}
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		list string
		want bool
	}{
		{"upgrade", true},
		{"Upgrade", true},
		{"keep-alive, Upgrade", true},
		{" ,UPGRADE ,", true},
		{"keep-alive,upgrade", true},
		{"keep-alive", false},
		{"upgrade-insecure", false},
		{"up grade", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.list, func(t *testing.T) {
			assert.Equal(t, tt.want, hasToken(tt.list, "upgrade"))
			assert.Equal(t, tt.want, hasToken([]byte(tt.list), "upgrade"))
		})
	}
}
