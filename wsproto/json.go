package wsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
)

// ReadJSON and WriteJSON borrow their buffers from pools, so that a
// connection holds none between messages. A read waits for its message
// holding the buffer, so only buffers of at most a read buffer's size go
// back to the read pool; writes keep theirs up to maxPooledJSON.
var (
	jsonReads  = sync.Pool{New: func() any { return new([]byte) }}
	jsonWrites = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

const maxPooledJSON = 64 << 10

// ReadJSON reads the next data message, text or binary, and decodes it as
// one JSON value into v (encoding/json.Unmarshal). The message is read into
// a pooled buffer, so that steady reads of small messages allocate only
// what decoding does. Errors are those of ReadMessage, or the decoder's.
func (c *Conn) ReadJSON(ctx context.Context, v any) error {
	b := jsonReads.Get().(*[]byte)
	_, msg, err := c.ReadMessage(ctx, *b)
	if err == nil {
		err = json.Unmarshal(msg, v)
	}
	if cap(msg) <= DefaultBufferSize {
		*b = msg[:0]
		jsonReads.Put(b)
	}
	return err
}

// WriteJSON encodes v as JSON (encoding/json.Marshal, without a trailing
// newline) and sends it as one text message, like WriteMessage.
func (c *Conn) WriteJSON(ctx context.Context, v any) error {
	b := jsonWrites.Get().(*bytes.Buffer)
	b.Reset()
	err := json.NewEncoder(b).Encode(v)
	if err == nil {
		err = c.WriteMessage(ctx, MessageText, bytes.TrimSuffix(b.Bytes(), []byte{'\n'}))
	}
	if b.Cap() <= maxPooledJSON {
		jsonWrites.Put(b)
	}
	return err
}
