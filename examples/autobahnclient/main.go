// Command autobahnclient drives the Autobahn testsuite's fuzzingserver, so
// that the client side of wsproto is tested as thoroughly as the server: it
// asks for the number of cases, runs each one by echoing every message the
// server sends, then asks the server to write its reports.
//
//	go run ./examples/autobahnclient -url ws://127.0.0.1:9001
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/db7c6739/ws/wsproto"
)

func main() {
	base := flag.String("url", "ws://127.0.0.1:9001", "fuzzingserver URL")
	agent := flag.String("agent", "db7c6739-ws", "agent name in the reports")
	caseTimeout := flag.Duration("case-timeout", 2*time.Minute, "bound on one case")
	noCompression := flag.Bool("no-compression", false, "do not offer permessage-deflate (RFC 7692)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := &wsproto.DialOptions{ReadLimit: 64 << 20}
	if !*noCompression {
		opts.Compression = &wsproto.CompressionOptions{}
	}
	if err := run(*base, *agent, *caseTimeout, opts, log); err != nil {
		log.Error("autobahn client", "err", err)
		os.Exit(1)
	}
}

func run(base, agent string, caseTimeout time.Duration, opts *wsproto.DialOptions, log *slog.Logger) error {
	ctx := context.Background()
	count, err := caseCount(ctx, base)
	if err != nil {
		return err
	}
	log.Info("running cases", "count", count)
	for i := 1; i <= count; i++ {
		u := base + "/runCase?case=" + strconv.Itoa(i) + "&agent=" + url.QueryEscape(agent)
		cctx, cancel := context.WithTimeout(ctx, caseTimeout)
		err := echo(cctx, u, opts)
		cancel()
		log.Debug("case done", "case", i, "end", err)
	}
	c, _, err := wsproto.Dial(ctx, base+"/updateReports?agent="+url.QueryEscape(agent), nil)
	if err != nil {
		return fmt.Errorf("update reports: %w", err)
	}
	_, _, err = c.ReadMessage(ctx, nil) // the server closes when the reports are written
	if wsproto.CloseStatus(err) == 0 {
		return fmt.Errorf("update reports: %w", err)
	}
	return nil
}

func caseCount(ctx context.Context, base string) (int, error) {
	c, _, err := wsproto.Dial(ctx, base+"/getCaseCount", nil)
	if err != nil {
		return 0, fmt.Errorf("get case count: %w", err)
	}
	defer c.CloseNow()
	_, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("get case count: %w", err)
	}
	_ = c.Close(wsproto.CloseNormalClosure, "")
	return strconv.Atoi(string(msg))
}

// echo runs one case: every message goes back as it came until the server
// closes or fails the connection; that ending is the case's outcome, judged
// by the server.
func echo(ctx context.Context, u string, opts *wsproto.DialOptions) error {
	c, _, err := wsproto.Dial(ctx, u, opts)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return err
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			return err
		}
		buf = msg
	}
}
