//go:build !js

// Command client is a command-line WebSocket client in the manner of wscat
// and websocat: it sends each line of its standard input as a message and
// prints each message that arrives, one per line.
//
//	go run ./examples/client ws://127.0.0.1:9001/
//	go run ./examples/client -send hello -n 1 ws://127.0.0.1:9001/
//
// Run it with -h for the flags and the exit status.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/db7c6739/ws/wsproto"
)

// Exit statuses.
const (
	exitOK        = 0 // a normal close
	exitConnect   = 1 // dial, TLS or handshake failure
	exitUsage     = 2 // bad flags or arguments
	exitAbnormal  = 3 // the connection ended otherwise
	exitNoReplies = 4 // -send: fewer than -n replies in time
)

const (
	// defaultTimeout bounds the dial and the handshake, and the wait for
	// the replies of -send.
	defaultTimeout = 10 * time.Second
	// maxLine bounds a line of standard input.
	maxLine = 16 << 20
	// drainTimeout bounds the wait for the pong that ends the replies at
	// the end of input.
	drainTimeout = 5 * time.Second
)

// drainPing is the payload of the ping sent at the end of input.
const drainPing = "client: end of input"

const usage = `usage: client [flags] URL

Connects to URL (ws:// or wss://), sends each line of standard input as a
text message and prints each message that arrives on standard output, one
per line: text as it is, binary as hexadecimal. With -binary, input lines
are hexadecimal (spaces allowed) and go out as binary messages; a line that
is not hex is reported and skipped.

At the end of standard input the client waits, up to 5s, for the replies
to what it sent (they are in when the server answers a ping sent last),
then sends close 1000 and waits for the server's close; on an interrupt it
closes at once. With -send, it sends MSG instead of reading standard input,
prints the first N replies, then closes the same way.

Exit status:
  0  normal close: the server closed with 1000, or the server answered
     our close (end of input, interrupt, -send done)
  1  could not connect: dial, TLS or handshake failure (with the HTTP
     status when the server answered)
  2  usage error
  3  the connection ended otherwise: the server closed with another code,
     the connection was lost, or our close was not answered in time;
     printed as "closed: CODE REASON"
  4  -send: fewer than N replies arrived within -timeout

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second interrupt kills, as usual.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// config is what the command line asks for.
type config struct {
	url          string
	header       http.Header
	subprotocols []string
	origin       string
	insecure     bool
	ping         time.Duration // -ping-interval
	pongTimeout  time.Duration // -pong-timeout
	binary       bool
	send         *string // -send, if given
	n            int
	timeout      time.Duration
	compression  bool
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseArgs reads the command line. It returns nil and false after
// reporting a usage error to stderr, nil and true after printing the help
// that -h asks for.
func parseArgs(args []string, stderr io.Writer) (*config, bool) {
	cfg := &config{header: http.Header{}}
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var headers, protos listFlag
	var send string
	fs.Var(&headers, "H", "extra request header `'Name: value'` (repeatable)")
	fs.Var(&protos, "subprotocol", "`name` of a subprotocol to offer (repeatable or comma-separated)")
	fs.StringVar(&cfg.origin, "origin", "", "Origin header")
	fs.BoolVar(&cfg.insecure, "insecure", false, "skip TLS certificate verification")
	var hb graceful.Heartbeat
	hb.Register(fs)
	fs.BoolVar(&cfg.binary, "binary", false, "input lines and -send are hex, sent as binary messages")
	fs.StringVar(&send, "send", "", "send `MSG` instead of reading standard input")
	fs.IntVar(&cfg.n, "n", 1, "with -send: print this many replies, then close")
	fs.DurationVar(&cfg.timeout, "timeout", defaultTimeout, "bound on the dial and handshake, and on the replies of -send")
	noCompression := fs.Bool("no-compression", false, "do not offer permessage-deflate (RFC 7692)")

	// Flags may come after the URL too.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errors.Is(err, flag.ErrHelp)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.compression = !*noCompression
	cfg.ping, cfg.pongTimeout = hb.Interval, hb.Timeout

	fail := func(format string, a ...any) (*config, bool) {
		fmt.Fprintf(stderr, "client: "+format+"\n", a...)
		fmt.Fprintln(stderr, "run client -h for help")
		return nil, false
	}
	if len(pos) != 1 {
		return fail("want one URL, got %d arguments", len(pos))
	}
	cfg.url = pos[0]
	u, err := url.Parse(cfg.url)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fail("%q is not a ws:// or wss:// URL", cfg.url)
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return fail("-H %q: want 'Name: value'", h)
		}
		cfg.header.Add(name, strings.TrimSpace(value))
	}
	for _, p := range protos {
		for _, s := range strings.Split(p, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.subprotocols = append(cfg.subprotocols, s)
			}
		}
	}
	if set["send"] {
		if cfg.binary {
			if _, err := decodeHex(send); err != nil {
				return fail("-send: %v", err)
			}
		}
		cfg.send = &send
	} else if set["n"] {
		return fail("-n goes with -send")
	}
	if cfg.n < 0 {
		return fail("-n must not be negative")
	}
	if cfg.ping < 0 || cfg.pongTimeout < 0 || cfg.timeout <= 0 {
		return fail("-ping-interval and -pong-timeout must not be negative, -timeout must be positive")
	}
	return cfg, true
}

// run is the whole command: it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, ok := parseArgs(args, stderr)
	if cfg == nil {
		if ok { // -h
			return exitOK
		}
		return exitUsage
	}
	opts := &wsproto.DialOptions{
		Header:           cfg.header,
		Subprotocols:     cfg.subprotocols,
		Origin:           cfg.origin,
		HandshakeTimeout: cfg.timeout,
	}
	if cfg.insecure {
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	if cfg.compression {
		opts.Compression = &wsproto.CompressionOptions{}
	}
	opts.PingInterval, opts.PingTimeout = cfg.ping, cfg.pongTimeout
	c, resp, err := wsproto.Dial(ctx, cfg.url, opts)
	if err != nil {
		fmt.Fprintf(stderr, "client: cannot connect to %s: %v\n", cfg.url, err)
		if resp != nil {
			fmt.Fprintf(stderr, "client: HTTP status %s\n", resp.Status)
		}
		return exitConnect
	}
	defer c.CloseNow()
	if p := c.Subprotocol(); p != "" {
		fmt.Fprintf(stderr, "client: connected to %s, subprotocol %q\n", cfg.url, p)
	} else {
		fmt.Fprintf(stderr, "client: connected to %s\n", cfg.url)
	}

	s := &session{cfg: cfg, c: c, stdout: stdout, stderr: stderr, drained: make(chan struct{}, 1)}
	c.SetPongHandler(func(p []byte) {
		if string(p) == drainPing {
			select {
			case s.drained <- struct{}{}:
			default:
			}
		}
	})
	if cfg.send != nil {
		return s.oneShot(ctx)
	}
	return s.interactive(ctx, stdin)
}

// session is one connection of the client.
type session struct {
	cfg            *config
	c              *wsproto.Conn
	stdout, stderr io.Writer
	drained        chan struct{} // the pong to drainPing arrived
}

// startReading prints the messages that arrive, the first limit of them
// if limit >= 0, and signals each one printed on got (which must have
// room for limit signals, or be nil). The returned channel says how the
// connection ended. This goroutine is the only one to read c and to write
// to stdout.
func (s *session) startReading(limit int, got chan<- struct{}) <-chan error {
	done := make(chan error, 1)
	go func() {
		var buf []byte
		printed := 0
		for {
			typ, msg, err := s.c.ReadMessage(context.Background(), buf)
			if err != nil {
				done <- err
				return
			}
			buf = msg
			if limit >= 0 && printed >= limit {
				continue
			}
			if typ == wsproto.MessageBinary {
				fmt.Fprintln(s.stdout, hex.EncodeToString(msg))
			} else {
				fmt.Fprintf(s.stdout, "%s\n", msg)
			}
			printed++
			if got != nil {
				got <- struct{}{}
			}
		}
	}()
	return done
}

// interactive sends stdin line by line until it ends, the server closes or
// ctx ends.
func (s *session) interactive(ctx context.Context, stdin io.Reader) int {
	readDone := s.startReading(-1, nil)
	// The goroutine reading stdin may stay blocked in Read after run
	// returns; main exits then, and tests close their pipe.
	quit := make(chan struct{})
	defer close(quit)
	lines := make(chan string)
	stdinErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-quit:
				return
			}
		}
		stdinErr <- sc.Err()
	}()
	for {
		select {
		case line := <-lines:
			if err := s.write(line); err != nil {
				if errors.Is(err, errBadHex) {
					fmt.Fprintf(s.stderr, "client: skipped line: %v\n", err)
					continue
				}
				return s.writeFailed(readDone)
			}
		case err := <-stdinErr:
			if err != nil {
				fmt.Fprintf(s.stderr, "client: reading standard input: %v\n", err)
			}
			return s.drainAndClose(ctx, readDone)
		case <-ctx.Done():
			return s.closeAndWait(readDone)
		case err := <-readDone:
			return s.ended(err)
		}
	}
}

// oneShot sends -send and prints -n replies.
func (s *session) oneShot(ctx context.Context) int {
	got := make(chan struct{}, s.cfg.n)
	readDone := s.startReading(s.cfg.n, got)
	if err := s.write(*s.cfg.send); err != nil {
		return s.writeFailed(readDone)
	}
	timeout := time.NewTimer(s.cfg.timeout)
	defer timeout.Stop()
	for n := 0; n < s.cfg.n; {
		select {
		case <-got:
			n++
		case err := <-readDone:
			return s.ended(err)
		case <-timeout.C:
			fmt.Fprintf(s.stderr, "client: %d of %d replies within %v\n", n, s.cfg.n, s.cfg.timeout)
			s.closeAndWait(readDone)
			return exitNoReplies
		case <-ctx.Done():
			fmt.Fprintf(s.stderr, "client: interrupted after %d of %d replies\n", n, s.cfg.n)
			s.closeAndWait(readDone)
			return exitNoReplies
		}
	}
	return s.closeAndWait(readDone)
}

var errBadHex = errors.New("not hexadecimal")

// write sends one message: text, or with -binary the bytes a hex line
// spells. Writes and pings are not bound to the run's context: an
// interrupt would tear the connection down mid-frame, where it should
// close it normally once the write is done (a second interrupt kills).
func (s *session) write(line string) error {
	ctx := context.Background()
	if !s.cfg.binary {
		return s.c.WriteMessage(ctx, wsproto.MessageText, []byte(line))
	}
	p, err := decodeHex(line)
	if err != nil {
		return err
	}
	return s.c.WriteMessage(ctx, wsproto.MessageBinary, p)
}

// decodeHex reads hex digits, ignoring spaces and tabs between them.
func decodeHex(s string) ([]byte, error) {
	s = strings.NewReplacer(" ", "", "\t", "").Replace(s)
	p, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", errBadHex, s)
	}
	return p, nil
}

// drainAndClose closes at the end of input, once the replies to what was
// sent have arrived. Close would drop the messages that arrive while no
// read is in progress, and the reader is between two reads at times (and
// may not have begun at all when input is short). The pong to a ping sent
// now comes after whatever the server sent before reading the ping, and
// its handler runs inside a read, after everything before it was printed.
func (s *session) drainAndClose(ctx context.Context, readDone <-chan error) int {
	// The ping waits for its pong, which the reader sees first; if the
	// connection fails instead, so does the reader, and readDone says so.
	go func() { _, _ = s.c.Ping(context.Background(), []byte(drainPing)) }()
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	select {
	case <-s.drained:
	case err := <-readDone:
		return s.ended(err)
	case <-t.C:
	case <-ctx.Done():
	}
	return s.closeAndWait(readDone)
}

// closeAndWait sends close 1000, waits for the server's answer (bounded by
// the close timeout) and for the reader to end.
func (s *session) closeAndWait(readDone <-chan error) int {
	err := s.c.Close(wsproto.CloseNormalClosure, "")
	readErr := <-readDone
	if err == nil {
		return exitOK
	}
	var ce *wsproto.CloseError
	if errors.As(readErr, &ce) && ce.Err == nil {
		// The server's own close came first: it says how it ended.
		return s.ended(readErr)
	}
	return s.report(err)
}

// writeFailed ends the session after a failed write or ping: the
// connection is ending, its close sent or its TCP connection gone. CloseNow
// makes sure the reader returns, with the server's close if it came.
func (s *session) writeFailed(readDone <-chan error) int {
	_ = s.c.CloseNow()
	return s.ended(<-readDone)
}

// ended reports how the connection ended when we did not end it.
func (s *session) ended(err error) int {
	if wsproto.CloseStatus(err) == wsproto.CloseNormalClosure {
		return exitOK
	}
	return s.report(err)
}

// report prints an abnormal end as "closed: CODE REASON".
func (s *session) report(err error) int {
	var ce *wsproto.CloseError
	var pe *wsproto.ProtocolError
	switch {
	case errors.As(err, &ce) && ce.Err == nil && ce.Reason == "":
		fmt.Fprintf(s.stderr, "closed: %d\n", ce.Code)
	case errors.As(err, &ce) && ce.Err == nil:
		fmt.Fprintf(s.stderr, "closed: %d %s\n", ce.Code, ce.Reason)
	case errors.As(err, &ce):
		fmt.Fprintf(s.stderr, "closed: %d %v\n", ce.Code, ce.Err)
	case errors.As(err, &pe):
		fmt.Fprintf(s.stderr, "closed: %d %v (sent by us)\n", pe.Code, pe.Err)
	default:
		fmt.Fprintf(s.stderr, "closed: %d %v\n", wsproto.CloseAbnormalClosure, err)
	}
	return exitAbnormal
}
