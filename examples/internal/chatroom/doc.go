//go:build !js

// Package chatroom is the chat of examples/chat and examples/chatcluster:
// its rooms, names, history, page and HTTP API, described in the doc
// comment of examples/chat. A Server holds the members connected to it
// and shares their rooms with other servers through a Bus: LocalBus for a
// chat in one process, a bus over a message backbone for one spread over
// many.
package chatroom
