package load

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/db7c6739/ws/handshake"
)

const handshakeTimeout = 10 * time.Second

// deflateOffer asks for permessage-deflate with no context takeover either
// way: the client's so that one pre-compressed message is valid every time,
// the server's so that every server compresses each message from scratch,
// which is what they all do when configured for many connections.
var deflateOffer = []handshake.Extension{{
	Name: "permessage-deflate",
	Params: []handshake.Param{
		{Name: "client_no_context_takeover"},
		{Name: "server_no_context_takeover"},
	},
}}

// dial connects to addr and, for WebSocket, runs the opening handshake
// with the handshake package. It returns the connection and any bytes read
// past the handshake response.
func dial(addr, proto string, deflate bool) (net.Conn, []byte, error) {
	nc, err := net.DialTimeout("tcp", addr, handshakeTimeout)
	if err != nil {
		return nil, nil, err
	}
	if proto == "tcp" {
		return nc, nil, nil
	}
	rest, err := clientHandshake(nc, addr, deflate)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, rest, nil
}

func clientHandshake(nc net.Conn, addr string, deflate bool) ([]byte, error) {
	_ = nc.SetDeadline(time.Now().Add(handshakeTimeout))
	defer nc.SetDeadline(time.Time{})
	key, err := handshake.NewKey()
	if err != nil {
		return nil, err
	}
	opts := &handshake.ClientOptions{}
	if deflate {
		opts.Extensions = deflateOffer
	}
	bw := bufio.NewWriterSize(nc, 512)
	u := &url.URL{Scheme: "ws", Host: addr, Path: "/"}
	if err := handshake.WriteRequest(bw, u, key, opts); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 1024)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("load: reading handshake response: %w", err)
	}
	_, exts, err := handshake.CheckResponse(resp, key, opts)
	if err != nil {
		return nil, err
	}
	if deflate && (len(exts) != 1 || exts[0].Name != "permessage-deflate") {
		return nil, errors.New("load: server did not accept permessage-deflate")
	}
	if n := br.Buffered(); n > 0 {
		rest, _ := br.Peek(n)
		return append([]byte(nil), rest...), nil
	}
	return nil, nil
}

// dialAll opens n connections, at most 64 handshakes at a time. It returns
// the connections that succeeded, with their leftover bytes, and the
// number and first of the failures.
func dialAll(n int, addr, proto string, deflate bool) (conns []net.Conn, rests [][]byte, failed int, firstErr error) {
	conns = make([]net.Conn, n)
	rests = make([][]byte, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 64)
	done := make(chan struct{})
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; done <- struct{}{} }()
			conns[i], rests[i], errs[i] = dial(addr, proto, deflate)
		}()
	}
	for range n {
		<-done
	}
	ok := conns[:0]
	okRests := rests[:0]
	for i, err := range errs {
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		ok = append(ok, conns[i])
		okRests = append(okRests, rests[i])
	}
	return ok, okRests, failed, firstErr
}
