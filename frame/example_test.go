package frame_test

import (
	"fmt"

	"github.com/db7c6739/ws/frame"
)

// A masked text frame, as a client sends it, encoded and decoded again.
func Example() {
	payload := []byte("Hello")
	h := frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Length: int64(len(payload)), Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}

	wire := frame.AppendHeader(nil, h)
	frame.Mask(h.Mask, 0, payload)
	wire = append(wire, payload...)
	fmt.Printf("% x\n", wire)

	got, n, err := frame.ParseHeader(wire)
	if err != nil {
		panic(err)
	}
	body := wire[n : n+int(got.Length)]
	frame.Mask(got.Mask, 0, body)
	fmt.Println(got.Opcode, got.Fin, string(body))
	// Output:
	// 81 85 37 fa 21 3d 7f 9f 4d 51 58
	// text true Hello
}

func ExampleParseClosePayload() {
	code, reason, err := frame.ParseClosePayload([]byte{0x03, 0xe9, 'b', 'y', 'e'})
	fmt.Println(code, string(reason), err)

	_, _, err = frame.ParseClosePayload([]byte{0x03, 0xed})
	fmt.Println(err)
	// Output:
	// going away bye <nil>
	// frame: close code not allowed on the wire
}
