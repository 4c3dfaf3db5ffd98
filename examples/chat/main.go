//go:build !js

// Command chat is a chat server with rooms, and its web page, on one port.
//
//	go run ./examples/chat -addr 127.0.0.1:9003
//
// then open http://127.0.0.1:9003/chats/lobby (or /chats/lobby?name=alice)
// in a few browser tabs.
//
// # Routes
//
//	GET  /                            redirect to /chats/lobby
//	GET  /chats/{room}                the page; it connects to /chats/{room}/ws
//	GET  /chats/{room}/ws?name=NAME   the WebSocket
//	GET  /api/rooms                   [{"room":"lobby","members":2}, ...]
//	POST /api/rooms/{room}/messages   {"name":"bot","text":"hi"} → 202
//
// A room name is 1–32 characters of [A-Za-z0-9_-]; any other is 404. A
// user name is at most 24 characters, with no space at either end, no
// space but U+0020, no control character and nothing that shows as nothing
// (format characters such as zero-width spaces and bidi controls, fillers),
// or the connection is closed with 1008; an empty or missing one is
// replaced by a guest name (guest-4821). Names are unique in a room once
// case-folded: "Alice" beside "alice" becomes "Alice-2". GET /api/rooms
// lists the rooms that have members, by name. The POST takes a body of at
// most 32 KiB (else 413); its name defaults to "api"; it answers 400 for
// bad JSON or an invalid name or text, 404 for a bad room name, 409 for
// the name of a member in the room, and 429 once the API's budget (shared
// by all its callers, charged before the body is checked) is spent; its
// messages carry "via":"api" and the page shows them so. A room without
// members keeps its history (up to 100 such rooms, the most recently
// used), so a message posted there waits for the next to join.
//
// # Protocol
//
// Every message is a JSON text message with a "type". The server sends,
// first to a newcomer:
//
//	{"type":"welcome","name":"alice","room":"lobby","members":["alice","bob"]}
//	{"type":"history","messages":[M, ...]}  the room's last 50 messages, oldest first
//
// then, as things happen in the room:
//
//	{"type":"message","name":"bob","text":"hi","time":"2025-01-02T15:04:05Z"}  (M)
//	{"type":"join","name":"carol"}   to the others
//	{"type":"leave","name":"carol"}  to the others
//	{"type":"error","text":"text: empty"}  to the sender of an invalid message
//
// A client sends {"type":"message","text":"..."}, with 1–2000 characters
// of text, not all white space; it comes back to everyone in the room, the
// sender included. Anything else (binary, not JSON, another type, a bad
// text) is answered with an error and otherwise ignored; only a message
// over 32 KiB ends the connection (1009, by wsproto). Strings are sent
// as they were received, HTML characters included: the page shows them
// with textContent.
//
// # Slow clients
//
// Each broadcast is encoded, and compressed, once for all members
// (wsproto.PreparedMessage) and queued for each member's writer goroutine
// without waiting. A member whose queue of 64 messages is full is dropped,
// closed with 1008 "too slow: send queue full", and each write is bounded
// by 10 seconds, so a client that stops reading delays no one else. Each
// client's sending has a budget (package fair: 10 messages and 64 KiB a
// second, with bursts): past it, the server reads nothing more from that
// client until the budget refills, so a flooder cannot fill the queues of
// members who read at human speed. A heartbeat (-ping-interval,
// -pong-timeout) drops members whose network vanished. On SIGINT or
// SIGTERM every client is closed with 1001 going away, within a quarter
// of a second.
//
// The rooms live in package chatroom, over its in-process bus;
// examples/chatcluster runs the same chat across many processes on NATS.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/db7c6739/ws/examples/internal/chatroom"
	"github.com/db7c6739/ws/examples/internal/graceful"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9003", "address to listen on")
	var hb graceful.Heartbeat
	hb.Register(flag.CommandLine)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
	log.Info("listening", "url", "http://"+ln.Addr().String()+"/chats/lobby")
	if err := chatroom.New(chatroom.Options{Log: log, Heartbeat: hb}).Serve(ctx, ln); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}
