package handshake

import (
	"strings"
)

// chromeRequest is an upgrade request as a current browser sends it
// (about 500 bytes).
const chromeRequest = "GET /chat?room=1 HTTP/1.1\r\n" +
	"Host: server.example.com\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: https://server.example.com\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: " + rfcKey + "\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n" +
	"\r\n"

// goodHeaders is the minimal valid handshake of RFC 6455 §4.1.
var goodHeaders = []string{
	"Host: server.example.com",
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: " + rfcKey,
	"Sec-WebSocket-Version: 13",
}

// head builds a request head from a request line and header lines.
func head(requestLine string, headers ...string) string {
	var b strings.Builder
	b.WriteString(requestLine + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// upgrade builds "GET /chat HTTP/1.1" with goodHeaders, minus every header
// named in drop, plus add.
func upgrade(drop []string, add ...string) string {
	var hs []string
next:
	for _, h := range goodHeaders {
		for _, d := range drop {
			if strings.HasPrefix(strings.ToLower(h), strings.ToLower(d)+":") {
				continue next
			}
		}
		hs = append(hs, h)
	}
	return head("GET /chat HTTP/1.1", append(hs, add...)...)
}

// without is a readable way to write the drop list of upgrade.
func without(names ...string) []string { return names }
