//go:build !js

// Package interop holds the interoperability tests of the module against
// WebSocket implementations that others wrote, run as separate processes:
//
//   - Node.js with the npm package ws (pinned in testdata/interop/package.json;
//     install with npm ci --prefix testdata/interop),
//   - Python's websockets (Debian's python3-websockets),
//   - Autobahn|Python on asyncio (Debian's python3-autobahn).
//
// Each peer is tested in both directions: our server (wsproto.Upgrade behind
// an httptest server) with its client, and its server with our client
// (wsproto.Dial). The subtests are named peer/direction/row, so go test -v
// reads as a matrix: messages of every size and type echoed byte for byte,
// fragmentation both ways, pings both ways, subprotocols, permessage-deflate
// with each context-takeover and window setting, every close path, invalid
// UTF-8 and oversized messages, and valid input that a strict peer must
// accept.
//
// The peers are small programs in testdata/interop (ws_peer.js,
// websockets_peer.py, autobahn_peer.py) that the tests drive with JSON
// commands on stdin and that report events as JSON lines on stdout; the
// protocol is described at the top of each. Only 127.0.0.1 is used.
//
// A peer that cannot be found skips its tests, unless WS_INTEROP_TESTS is
// set to "require", as CI does: then it fails them. The Python peers run on
// the first interpreter that can import them: $WS_INTEROP_PYTHON, then
// /usr/bin/python3 (Debian's), then python3 on PATH.
//
// With -record DIR, the bytes each peer client sent to our server after the
// handshake are saved in DIR, one file per subtest, as seeds for the fuzz
// targets over raw server input (package fuzz).
package interop
