// Command record is a TCP proxy that keeps the WebSocket traffic passing
// through it as seed corpus files for the targets in package fuzz: what
// each client sent after the handshake becomes a seed of FuzzServerConn or
// FuzzServerConnDeflate (FuzzUpgradeRequest makes its own from those,
// behind the heads in recorded_test.go; a request refused is kept whole as
// its seed), and what each server sent after its 101 becomes a seed of
// FuzzClientConn or FuzzClientConnDeflate, behind the canonical response
// those targets start from. Put it between a real peer and one of ours, e.g. the Autobahn
// fuzzingclient and the echo example:
//
//	go run ./examples/echo -addr 127.0.0.1:9001 &
//	go run ./fuzz/record -listen 127.0.0.1:9101 -target 127.0.0.1:9001 -prefix autobahn-server &
//	(point the fuzzingclient at ws://127.0.0.1:9101)
//
// It stops on SIGINT or after -n connections. Files land in
// fuzz/testdata/fuzz/<target>/<prefix>-<n>.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
)

// The heads the client targets put in front of their input; keep them as
// fuzz/conn_test.go spells them.
const (
	upgradeResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: {accept}\r\n\r\n"
	deflateResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9101", "address to accept peers on")
	target := flag.String("target", "127.0.0.1:9001", "address to forward each connection to")
	dir := flag.String("dir", "fuzz/testdata/fuzz", "the corpus directory")
	prefix := flag.String("prefix", "recorded", "file name prefix")
	limit := flag.Int("max", 1<<10, "bytes kept of each direction's frames (a request keeps 128)")
	n := flag.Int("n", 0, "stop after this many connections (0: on SIGINT)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	var wg sync.WaitGroup
	var seq atomic.Int64
	r := &recorder{dir: *dir, prefix: *prefix, limit: *limit}
	for i := 0; *n == 0 || i < *n; i++ {
		c, err := ln.Accept()
		if err != nil {
			break
		}
		id := seq.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.proxy(c, *target, id); err != nil {
				log.Printf("connection %d: %v", id, err)
			}
		}()
	}
	wg.Wait()
	log.Printf("recorded %d connections into %s", seq.Load(), *dir)
}

type recorder struct {
	dir, prefix string
	limit       int
}

// proxy forwards one connection both ways, then writes its seeds.
func (r *recorder) proxy(client net.Conn, target string, id int64) error {
	defer client.Close()
	server, err := net.Dial("tcp", target)
	if err != nil {
		return err
	}
	defer server.Close()
	var sent, received capped
	sent.limit, received.limit = r.limit+16<<10, r.limit+16<<10 // room for the heads
	var wg sync.WaitGroup
	wg.Add(2)
	go pipe(&wg, server, client, &sent)
	go pipe(&wg, client, server, &received)
	wg.Wait()

	_, clientFrames := splitHead(sent.Bytes())
	response, serverFrames := splitHead(received.Bytes())
	if !bytes.HasPrefix(response, []byte("HTTP/1.1 101")) {
		return r.write("FuzzUpgradeRequest", id, sent.Bytes())
	}
	deflate := bytes.Contains(bytes.ToLower(response), []byte("sec-websocket-extensions: permessage-deflate"))
	serverTarget, clientTarget, head := "FuzzServerConn", "FuzzClientConn", upgradeResponse
	if deflate {
		serverTarget, clientTarget, head = "FuzzServerConnDeflate", "FuzzClientConnDeflate", deflateResponse
	}
	for _, seed := range []struct {
		target string
		data   []byte
	}{
		{serverTarget, clip(clientFrames, r.limit)},
		{clientTarget, append([]byte(head), clip(serverFrames, r.limit)...)},
	} {
		if err := r.write(seed.target, id, seed.data); err != nil {
			return err
		}
	}
	return nil
}

// write saves data as a corpus file of a []byte fuzz target.
func (r *recorder) write(target string, id int64, data []byte) error {
	dir := filepath.Join(r.dir, target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%04d", r.prefix, id)), []byte(body), 0o644)
}

// pipe copies src to dst, keeping what passes in rec, and half-closes dst
// at the end so that the other direction can finish.
func pipe(wg *sync.WaitGroup, dst, src net.Conn, rec *capped) {
	defer wg.Done()
	_, _ = io.Copy(io.MultiWriter(dst, rec), src)
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// capped keeps the first limit bytes written to it.
type capped struct {
	bytes.Buffer
	limit int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.limit - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// splitHead splits an HTTP head from what follows it.
func splitHead(b []byte) (head, rest []byte) {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return b[:i+4], b[i+4:]
	}
	return b, nil
}

func clip(b []byte, n int) []byte { return b[:min(len(b), n)] }
