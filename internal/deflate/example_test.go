package deflate_test

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"

	"github.com/db7c6739/ws/internal/deflate"
)

// A sender compresses each message with one Append (or several, the last
// with flush) and strips the 00 00 ff ff that ends it; a receiver appends it
// back and inflates all messages with one decompressor, as RFC 7692 §7.2
// describes. With context takeover, the second message refers back into the
// first.
func ExampleWriter() {
	w := deflate.NewWriter(deflate.MaxWindowBits, deflate.DefaultCompression)
	tail := []byte{0x00, 0x00, 0xff, 0xff}

	var wire [][]byte
	for _, msg := range []string{"Hello, permessage-deflate", "Hello, permessage-deflate"} {
		out := w.Append(nil, []byte(msg), true)
		wire = append(wire, bytes.TrimSuffix(out, tail))
	}

	var in bytes.Buffer
	r := flate.NewReader(&in)
	for _, payload := range wire {
		in.Write(payload)
		in.Write(tail)
		msg := make([]byte, 25)
		if _, err := io.ReadFull(r, msg); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%d bytes: %s\n", len(payload), msg)
	}
	// Output:
	// 27 bytes: Hello, permessage-deflate
	// 4 bytes: Hello, permessage-deflate
}
