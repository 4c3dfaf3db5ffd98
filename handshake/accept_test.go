package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rfcKey and rfcAccept are the example of RFC 6455 §1.3.
const (
	rfcKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

func TestAcceptKey(t *testing.T) {
	reference := func(key string) string {
		sum := sha1.Sum([]byte(key + GUID))
		return base64.StdEncoding.EncodeToString(sum[:])
	}
	tests := []struct {
		name string
		key  string
		want string
	}{
		{"RFC 6455 §1.3", rfcKey, rfcAccept},
		{"empty", "", reference("")},
		// 92 bytes is the longest key hashed from the stack buffer; 93
		// takes the hash.Hash path.
		{"longest on the stack", strings.Repeat("k", 92), reference(strings.Repeat("k", 92))},
		{"first on the heap", strings.Repeat("k", 93), reference(strings.Repeat("k", 93))},
		{"long", strings.Repeat("0123456789", 100), reference(strings.Repeat("0123456789", 100))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, AcceptKey(tt.key))
			assert.Equal(t, "prefix:"+tt.want, string(AppendAcceptKey([]byte("prefix:"), []byte(tt.key))))
		})
	}
}

func TestNewKey(t *testing.T) {
	k1, err := NewKey()
	require.NoError(t, err)
	k2, err := NewKey()
	require.NoError(t, err)

	for _, k := range []string{k1, k2} {
		raw, err := base64.StdEncoding.DecodeString(k)
		require.NoError(t, err)
		assert.Len(t, raw, 16)
		assert.True(t, validKey(k))
	}
	assert.NotEqual(t, k1, k2)
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want bool
	}{
		{"RFC 6455 §1.3", rfcKey, true},
		{"15 bytes", base64.StdEncoding.EncodeToString(make([]byte, 15)), false},
		{"17 bytes", base64.StdEncoding.EncodeToString(make([]byte, 17)), false},
		{"not base64", "dGhlIHNhbXBsZSBub25jZQ!!", false},
		{"newline inside", "dGhlIHNhbXBsZSBub25j\nQ==", false},
		{"unpadded", "dGhlIHNhbXBsZSBub25jZQ", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, validKey(tt.key))
			assert.Equal(t, tt.want, validKey([]byte(tt.key)))
		})
	}
}

func TestAppendAcceptKeyAllocs(t *testing.T) {
	key := []byte(rfcKey)
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendAcceptKey(dst[:0], key)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, rfcAccept, string(dst))
}

func BenchmarkAcceptKey(b *testing.B) {
	key := []byte(rfcKey)
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	b.SetBytes(int64(len(key)))
	for b.Loop() {
		dst = AppendAcceptKey(dst[:0], key)
	}
}
