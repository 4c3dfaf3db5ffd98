package frame

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOpcode(t *testing.T) {
	for op := Opcode(0); op < 16; op++ {
		defined := op <= 2 || (op >= 8 && op <= 10)
		assert.Equal(t, !defined, op.IsReserved(), "%v reserved", op)
		assert.Equal(t, op >= 8, op.IsControl(), "%v control", op)
		assert.Equal(t, op <= 2, op.IsData(), "%v data", op)
	}
	assert.True(t, Opcode(0x10).IsReserved())
	assert.Equal(t, "text", OpText.String())
	assert.Equal(t, "continuation", OpContinuation.String())
	assert.Equal(t, "pong", OpPong.String())
	assert.Equal(t, "reserved(0xb)", Opcode(0xB).String())
}
