//go:build !js

package wsproto

import (
	"bytes"
	"context"
	"testing"
	"unsafe"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pageOffset is where p starts within its page of memory.
func pageOffset(p []byte) int {
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(p))) % 4096)
}

func TestGrowMessage(t *testing.T) {
	t.Run("room already there", func(t *testing.T) {
		dst := make([]byte, 3, 10)
		got := growMessage(dst, 7)
		assert.Equal(t, unsafe.SliceData(dst), unsafe.SliceData(got), "no new buffer")
		assert.Len(t, got, 3)
	})
	t.Run("small", func(t *testing.T) {
		got := growMessage([]byte("abc"), 100)
		assert.Equal(t, "abc", string(got))
		assert.GreaterOrEqual(t, cap(got), 103)
	})
	t.Run("large starts mid-page", func(t *testing.T) {
		for _, size := range []int{bigMessage, 1 << 20} {
			got := growMessage([]byte("abc"), size)
			assert.Equal(t, "abc", string(got))
			assert.GreaterOrEqual(t, cap(got), 3+size)
			assert.Equal(t, pageSkew, pageOffset(got), "size %d", size)
		}
	})
}

// TestLargeMessageBufferMidPage: a large message that ReadMessage reads
// into a buffer of its own lands half a page in, and stays there when the
// buffer is passed back in (see growMessage).
func TestLargeMessageBufferMidPage(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789abcdef"), (1<<20)/16)
	var wire []byte
	for i := range 3 {
		wire = append(wire, wireFrame(false, true, frame.OpBinary, [4]byte{byte(i), 2, 3, 4}, msg)...)
	}
	c := newConn(&feedConn{data: wire}, false, "", connConfig{}, nil, nil)
	var buf []byte
	for range 3 {
		_, got, err := c.ReadMessage(context.Background(), buf)
		require.NoError(t, err)
		require.True(t, bytes.Equal(msg, got))
		assert.Equal(t, pageSkew, pageOffset(got))
		buf = got
	}
}
