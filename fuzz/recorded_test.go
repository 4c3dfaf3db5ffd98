//go:build !js

package fuzz

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The request heads of the Autobahn recordings (see record), with Host,
// key and case number made the same: our Autobahn client's, and the
// fuzzingclient's, plain and with each permessage-deflate offer it makes.
const (
	recordedClientHead = "GET /runCase?case=1&agent=db7c6739-ws HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\n" +
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
	recordedServerHead = "GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n" +
		"Pragma: no-cache\r\nCache-Control: no-cache\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"{extensions}Sec-WebSocket-Version: 13\r\n\r\n"
)

var recordedOffers = []string{
	"permessage-deflate; client_no_context_takeover; client_max_window_bits",
	"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=9",
	"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9," +
		"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover," +
		"permessage-deflate; client_no_context_takeover; client_max_window_bits",
}

// recordedUpgrades returns seeds for FuzzUpgradeRequest made from the
// recordings of FuzzServerConn and FuzzServerConnDeflate: each client
// stream's first 128 bytes of frames (what record keeps of a request),
// behind the head its peer sent, the deflate offers taken in turn. They
// stand for the recordings of whole requests, which would repeat the same
// frames in as many more files.
func recordedUpgrades(tb testing.TB) [][]byte {
	var seeds [][]byte
	offer := 0
	for _, target := range []string{"FuzzServerConn", "FuzzServerConnDeflate"} {
		files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "autobahn-*"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, file := range files {
			frames := readCorpusBytes(tb, file)
			frames = frames[:min(len(frames), 128)]
			var head string
			switch {
			case strings.HasPrefix(filepath.Base(file), "autobahn-client-"):
				head = recordedClientHead
			case target == "FuzzServerConn":
				head = strings.Replace(recordedServerHead, "{extensions}", "", 1)
			default:
				head = strings.Replace(recordedServerHead, "{extensions}", "Sec-WebSocket-Extensions: "+recordedOffers[offer%len(recordedOffers)]+"\r\n", 1)
				offer++
			}
			seeds = append(seeds, append([]byte(head), frames...))
		}
	}
	return seeds
}

// readCorpusBytes reads a corpus file of one []byte value.
func readCorpusBytes(tb testing.TB, file string) []byte {
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	_, rest, _ := bytes.Cut(b, []byte("\n"))
	lit := strings.TrimSpace(string(rest))
	if !strings.HasPrefix(lit, "[]byte(") || !strings.HasSuffix(lit, ")") {
		tb.Fatalf("%s: not a corpus file of one []byte", file)
	}
	s, err := strconv.Unquote(lit[len("[]byte(") : len(lit)-1])
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	return []byte(s)
}

func TestRecordedUpgrades(t *testing.T) {
	seeds := recordedUpgrades(t)
	a, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzServerConn", "autobahn-*"))
	b, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzServerConnDeflate", "autobahn-*"))
	if len(seeds) != len(a)+len(b) || len(seeds) == 0 {
		t.Fatalf("%d seeds from %d recordings", len(seeds), len(a)+len(b))
	}
	for _, s := range seeds {
		if !bytes.Contains(s, []byte("\r\n\r\n")) {
			t.Fatalf("a seed without a whole head: %q", s)
		}
	}
}
