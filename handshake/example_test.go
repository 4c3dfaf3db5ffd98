package handshake_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/db7c6739/ws/handshake"
)

func ExampleAcceptKey() {
	// The example of RFC 6455 §1.3.
	fmt.Println(handshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

// A server reads the request head from the connection, checks it and
// answers with 101 or with the rejection.
func Example_server() {
	conn := strings.NewReader("GET /chat HTTP/1.1\r\n" +
		"Host: server.example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Origin: http://server.example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"\r\n")
	var out bytes.Buffer
	br, bw := bufio.NewReader(conn), bufio.NewWriter(&out)

	var req handshake.Request
	if err := req.ReadRequest(br, 0); err != nil {
		handshake.WriteReject(bw, err)
		bw.Flush()
		return
	}
	sub, err := handshake.Check(&req, &handshake.ServerOptions{Subprotocols: []string{"chat"}})
	if err != nil {
		handshake.WriteReject(bw, err)
		bw.Flush()
		return
	}
	if err := handshake.WriteResponse(bw, req.Key, sub, "", nil); err != nil {
		return
	}
	bw.Flush()
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: chat
}

// A request that is not a WebSocket handshake is answered with its status.
func ExampleWriteReject() {
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	handshake.WriteReject(bw, handshake.ErrBadVersion)
	bw.Flush()
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// HTTP/1.1 426 Upgrade Required
	// Connection: Upgrade, close
	// Upgrade: websocket
	// Sec-WebSocket-Version: 13
	// Content-Type: text/plain; charset=utf-8
	// X-Content-Type-Options: nosniff
	// Content-Length: 72
	//
	// handshake: Sec-WebSocket-Version header: must appear once with value 13
}

// A client writes the request and checks the server's answer.
func Example_client() {
	key := "dGhlIHNhbXBsZSBub25jZQ==" // from handshake.NewKey in real use
	opts := &handshake.ClientOptions{Subprotocols: []string{"chat", "superchat"}}
	u, _ := url.Parse("ws://server.example.com/chat")

	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	if err := handshake.WriteRequest(bw, u, key, opts); err != nil {
		fmt.Println(err)
		return
	}
	bw.Flush()
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))

	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"+
		"Sec-WebSocket-Protocol: chat\r\n"+
		"\r\n")), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	sub, _, err := handshake.CheckResponse(resp, key, opts)
	fmt.Printf("subprotocol %q, error %v\n", sub, err)
	// Output:
	// GET /chat HTTP/1.1
	// Host: server.example.com
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
	// Sec-WebSocket-Version: 13
	// Sec-WebSocket-Protocol: chat, superchat
	//
	// subprotocol "chat", error <nil>
}
