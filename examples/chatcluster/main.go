// Command chatcluster is the chat of examples/chat (same rooms, page and
// HTTP API) spread over any number of processes, which share its rooms
// through NATS. Each process is a node; with no -nats URL a node starts an
// embedded NATS server, with JetStream, and is a complete chat on its own:
//
//	cd examples/chatcluster
//	go run . -addr 127.0.0.1:9005
//
// and a second node joins the first one's NATS server:
//
//	go run . -addr 127.0.0.1:9006 -nats nats://127.0.0.1:4222
//
// Open http://127.0.0.1:9005/chats/lobby and http://127.0.0.1:9006/chats/lobby:
// one room. Any number of nodes can join, behind a load balancer or not;
// -nats takes a comma-separated list of the servers of a NATS cluster.
//
// What goes over NATS (package natsbus): each room's chat messages on the
// subject chat.msg.<room>, kept in the JetStream stream CHAT, the last 50
// per room, so that a newcomer on any node gets them and a restart loses
// nothing; presence in the key-value bucket chat-presence, one key per
// member, created only if absent (names are unique across nodes) and
// expiring unless its node refreshes it (the members of a node that died
// leave), after the -presence-ttl of the node that created the bucket. A
// node follows only the rooms that have members on it, and sends each
// message to them as one prepared message.
//
// When NATS goes away a node says so in its log and reconnects on its own;
// meanwhile a member's message gets an error event ("not sent: ..."),
// never silence. When a node goes away its pages reconnect, with backoff,
// to the same URL, which a load balancer would send to another node.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/db7c6739/ws/examples/chatcluster/natsbus"
	"github.com/db7c6739/ws/examples/internal/chatroom"
	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9005", "address to listen on")
	natsURL := flag.String("nats", "", "NATS server(s) to join, nats://host:port[,...]; empty starts an embedded one")
	natsListen := flag.String("nats-listen", "127.0.0.1:4222", "address of the embedded NATS server")
	dataDir := flag.String("data", "", "JetStream data directory of the embedded NATS server (default: chatcluster-nats-PORT in the system's temporary directory)")
	ttl := flag.Duration("presence-ttl", natsbus.DefaultPresenceTTL, "how long the members of a node that stopped refreshing them stay present")
	var hb graceful.Heartbeat
	hb.Register(flag.CommandLine)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log, *addr, *natsURL, *natsListen, *dataDir, *ttl, hb); err != nil {
		log.Error("chatcluster", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, addr, natsURL, natsListen, dataDir string, ttl time.Duration, hb graceful.Heartbeat) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if natsURL == "" {
		ns, err := startEmbeddedNATS(natsListen, dataDir)
		if err != nil {
			return err
		}
		defer func() {
			ns.Shutdown()
			ns.WaitForShutdown()
		}()
		natsURL = ns.ClientURL()
		log.Info("embedded NATS", "url", natsURL, "data", ns.JetStreamConfig().StoreDir)
	}
	nc, err := nats.Connect(natsURL,
		nats.Name("chatcluster "+addr),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		// While disconnected, publishing fails at once rather than
		// buffering: a member told "not sent" must not see the message
		// go out later.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("NATS disconnected; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(*nats.Conn) { log.Info("NATS connection closed") }),
	)
	if err != nil {
		return fmt.Errorf("connecting to NATS at %s: %w", natsURL, err)
	}
	defer nc.Close()
	log.Info("NATS connected", "url", nc.ConnectedUrlRedacted())

	bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	bus, err := natsbus.New(bctx, nc, natsbus.Options{PresenceTTL: ttl})
	cancel()
	if err != nil {
		return err
	}

	if bus.PresenceTTL() != ttl {
		log.Warn("the presence bucket exists with another TTL, which holds: refreshing at its pace", "bucket-ttl", bus.PresenceTTL(), "presence-ttl", ttl)
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Info("listening", "url", "http://"+ln.Addr().String()+"/chats/lobby")
	s := chatroom.New(chatroom.Options{Log: log, Heartbeat: hb, Bus: bus, PresenceRefresh: bus.PresenceTTL() / 3})
	if err := s.Serve(ctx, ln); err != nil {
		return err
	}
	// The members' names were released as they left; what is still on
	// its way to NATS goes before the connection closes.
	if err := nc.Flush(); err != nil {
		log.Warn("NATS flush", "err", err)
	}
	return nil
}

// startEmbeddedNATS starts a NATS server with JetStream on listen, storing in dir
// (or one named after its port in the temporary directory).
func startEmbeddedNATS(listen, dir string) (*server.Server, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("-nats-listen: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("-nats-listen: port %q: %w", portText, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	switch {
	case dir == "" && port == server.RANDOM_PORT:
		// No name to give it: a directory of its own.
		if dir, err = os.MkdirTemp("", "chatcluster-nats-"); err != nil {
			return nil, err
		}
	case dir == "":
		dir = filepath.Join(os.TempDir(), "chatcluster-nats-"+portText)
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "chatcluster-" + portText,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS on %s: not ready after 30s", listen)
	}
	return ns, nil
}
