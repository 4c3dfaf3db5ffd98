//go:build !js

package wsproto

import (
	"context"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadIntoForeignMemory: a large buffer that is not Go memory, passed
// to ReadMessage, is read into like any other, and held as it is while the
// read waits (a weak pointer to it would crash the runtime).
func TestReadIntoForeignMemory(t *testing.T) {
	mem, err := syscall.Mmap(-1, 0, 64<<10, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	require.NoError(t, err)
	defer syscall.Munmap(mem)
	server, client := pair(t, nil, nil)
	ctx := context.Background()
	got := make(chan []byte, 1)
	go func() {
		_, msg, err := server.ReadMessage(ctx, mem[:0])
		assert.NoError(t, err)
		got <- msg
	}()
	require.NoError(t, client.WriteMessage(ctx, MessageBinary, []byte("into mmap'd memory")))
	msg := <-got
	assert.Equal(t, "into mmap'd memory", string(msg))
	assert.Equal(t, &mem[0], &msg[0], "read into the caller's buffer")
}
