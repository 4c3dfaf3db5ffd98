package wsproto

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"
)

// DialOptions configures the client side. A nil *DialOptions means the zero
// value, whose every field has a useful default.
type DialOptions struct {
	// Header holds extra request headers (not the handshake's own).
	Header http.Header
	// Subprotocols to offer, most preferred first.
	Subprotocols []string
	// Origin, if set, is sent as the Origin header.
	Origin string
	// Host, if set, is sent as the Host header instead of the URL's host.
	// The connection still goes to the URL's host, and TLS still checks
	// the certificate for it (unless TLSConfig.ServerName says otherwise).
	Host string
	// Jar, if not nil, gives the request its cookies for the URL (as the
	// http or https URL of the same host and path) and keeps those the
	// response sets, whatever its status.
	Jar http.CookieJar

	// TLSConfig is used for wss:// URLs, and for https:// proxies;
	// ServerName defaults to the host being reached.
	TLSConfig *tls.Config
	// Proxy returns the proxy for a request, as http.Transport.Proxy does:
	// the request's URL is the http or https form of the WebSocket URL. A
	// nil URL means no proxy. If Proxy is nil, http.ProxyFromEnvironment
	// decides (HTTPS_PROXY for wss://, HTTP_PROXY for ws://, NO_PROXY;
	// never for loopback hosts). The connection goes through the proxy with
	// HTTP CONNECT, with basic authentication if the proxy URL holds a user;
	// an https:// proxy is reached over TLS. A proxy that refuses fails
	// Dial with an error matching ErrProxyRefused.
	Proxy func(*http.Request) (*url.URL, error)
	// NetDialContext opens TCP connections, to the server or to the proxy:
	// (&net.Dialer{}).DialContext if nil.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// NetDialTLSContext, if set, opens the connection of a wss:// URL,
	// TLS included, when no proxy is used; TLSConfig is not used then.
	NetDialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// HandshakeTimeout bounds dialing and the handshake together:
	// DefaultHandshakeTimeout if 0. The context given to Dial bounds them
	// too.
	HandshakeTimeout time.Duration
	// MaxResponseHeaderBytes bounds the server's response head, status line
	// and header lines, and a proxy's: DefaultMaxResponseHeaderBytes if 0.
	// A longer head fails Dial with ErrResponseHeaderTooLarge.
	MaxResponseHeaderBytes int

	// ReadLimit, ReadBufferSize, WriteBufferSize, CloseTimeout and the
	// heartbeat's PingInterval and PingTimeout are as in UpgradeOptions.
	ReadLimit                       int64
	ReadBufferSize, WriteBufferSize int
	CloseTimeout                    time.Duration
	PingInterval, PingTimeout       time.Duration
	// Compression, if not nil, offers permessage-deflate (RFC 7692). The
	// server may decline; Dial fails if its answer does not fit the offer.
	Compression *CompressionOptions

	// HTTP2Transport, if set, opens the connection over HTTP/2 (RFC 8441):
	// Dial sends it an extended CONNECT request for the https:// form of a
	// wss:// URL (http:// for ws://, which needs a transport that speaks
	// cleartext HTTP/2), so that WebSockets share its HTTP/2 connections,
	// many to one. It must be able to send the :protocol pseudo-header,
	// which golang.org/x/net/http2.Transport can and net/http's Transport
	// cannot (Go 1.26; Dial fails with such a transport). If the round
	// trip fails before a response, as it does when the server does not
	// offer extended CONNECT or does not speak HTTP/2, Dial opens an
	// HTTP/1.1 connection instead, as without this option (at the cost of
	// that first attempt, each time); the returned response's ProtoMajor
	// says which was used, and if both fail the error holds both (there
	// is no second attempt once ctx or HandshakeTimeout ended). TLS,
	// proxies and dialing are the transport's business on the HTTP/2
	// path; the options for them apply to the HTTP/1.1 one.
	HTTP2Transport http.RoundTripper
}

// CompressionOptions turns on permessage-deflate (RFC 7692) and tunes it.
// A nil *CompressionOptions in UpgradeOptions or DialOptions leaves
// compression off; a zero one turns it on with the defaults: context
// takeover both ways, full 32 KiB windows, messages under
// DefaultCompressionThreshold sent as they are.
//
// The fields speak of the server's and the client's compressor whichever
// side sets them: a server grants or imposes them in its answer, a client
// asks for them in its offer (RFC 7692 §7.1).
type CompressionOptions struct {
	// Level trades CPU for ratio, from 1 (fastest) to 9 (smallest); 0
	// means DefaultCompressionLevel. Higher levels search more candidate
	// positions: a compressor with the full window holds about 89 KiB at
	// level 1 and 137 KiB at level 9.
	Level int
	// ServerNoContextTakeover makes the server's compressor forget
	// everything between messages: a server then holds no compressor
	// while idle, at some cost in ratio (§7.1.1.1).
	ServerNoContextTakeover bool
	// ClientNoContextTakeover does the same for the client's compressor,
	// which spares the server a decompression window per connection
	// (§7.1.1.2).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits and ClientMaxWindowBits bound the LZ77 window of
	// the server's and the client's compressor to 2^bits bytes (8–15);
	// 0 leaves it at 15 (§7.1.2).
	ServerMaxWindowBits int
	ClientMaxWindowBits int
	// Threshold is the size under which a message is sent uncompressed:
	// DefaultCompressionThreshold if 0; every message is compressed if
	// negative. Conn.WriteCompressed overrides it per message.
	Threshold int
}

// DefaultCompressionThreshold: shorter messages gain little from
// compression and would cost a compressor's time.
const DefaultCompressionThreshold = 64

// DefaultCompressionLevel is the fastest level: on a real-time connection
// latency matters more than the last bytes of ratio (level 1 compresses a
// 1 KiB JSON message to 29%, level 9 to 22%, at a seventh of the speed).
const DefaultCompressionLevel = 1

// DefaultMaxResponseHeaderBytes bounds the head of a handshake response
// unless DialOptions says otherwise: a 101 response needs a few hundred
// bytes, and a server must not be able to make a client buffer without end.
const DefaultMaxResponseHeaderBytes = 64 << 10

// ErrResponseHeaderTooLarge is returned by Dial when the server's response
// head, or a proxy's, exceeds DialOptions.MaxResponseHeaderBytes.
var ErrResponseHeaderTooLarge = errors.New("wsproto: handshake response head too large")

// ErrProxyRefused is matched by the error Dial returns when the proxy
// answers the CONNECT request with anything but a 2xx status.
var ErrProxyRefused = errors.New("wsproto: proxy refused to connect")
