package servers

import (
	"encoding/binary"
	"net"
)

// serveTCP is the baseline: a raw TCP echo of messages framed by a 4-byte
// big-endian length. It does what a WebSocket server does at the least:
// buffered reads (one read can bring many pipelined messages) and one write
// per message, straight from the read buffer, prefix included. The buffer
// starts at 256 bytes, the size of a wsproto Conn's own idle read buffer,
// and grows to the largest message seen, so the idle baseline stays small.
func serveTCP(ln net.Listener, _ bool) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go tcpEcho(nc)
	}
}

func tcpEcho(nc net.Conn) {
	defer nc.Close()
	buf := make([]byte, 256)
	start, end := 0, 0 // unread bytes are buf[start:end]
	for {
		// Echo every whole message in the buffer.
		for end-start >= 4 {
			n := int(binary.BigEndian.Uint32(buf[start:]))
			if n > 64<<20 {
				return
			}
			if end-start < 4+n {
				if 4+n > len(buf) {
					grown := make([]byte, max(4+n, 2*len(buf)))
					end = copy(grown, buf[start:end])
					start, buf = 0, grown
				}
				break
			}
			if _, err := nc.Write(buf[start : start+4+n]); err != nil {
				return
			}
			start += 4 + n
		}
		if start == end {
			start, end = 0, 0
		} else if end == len(buf) {
			end = copy(buf, buf[start:end])
			start = 0
		}
		m, err := nc.Read(buf[end:])
		if err != nil {
			return
		}
		end += m
	}
}
