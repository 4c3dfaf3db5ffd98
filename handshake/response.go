package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// responseHeaders are the fields WriteResponse writes itself and that extra
// headers may therefore not repeat.
var responseHeaders = [...]string{hdrUpgrade, hdrConnection, hdrAccept, hdrProtocol, hdrExtensions}

// connectResponseHeaders are the fields extra headers may not set in the
// answer to an extended CONNECT (RFC 8441): the handshake's own, and those
// HTTP/2 forbids (RFC 9113 §8.2.2; net/http's server takes "Connection:
// close" as an order to end the whole connection) or a 2xx to CONNECT
// does not have (Content-Length, RFC 9110 §9.3.6).
var connectResponseHeaders = [...]string{hdrAccept, hdrProtocol, hdrExtensions,
	hdrConnection, hdrUpgrade, "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Content-Length"}

// CheckConnectHeader returns an error if extra, headers to add to the
// answer to an HTTP/2 extended CONNECT, names a field that answer may not
// carry: the handshake's own, or one HTTP/2 forbids.
func CheckConnectHeader(extra http.Header) error {
	return checkExtra(extra, connectResponseHeaders[:])
}

// WriteResponse writes the server's handshake response (RFC 6455 §4.2.2
// item 5) to bw:
//
//	HTTP/1.1 101 Switching Protocols
//	Upgrade: websocket
//	Connection: Upgrade
//	Sec-WebSocket-Accept: <AcceptKey(key)>
//	Sec-WebSocket-Protocol: <subprotocol>      (if subprotocol != "")
//	Sec-WebSocket-Extensions: <extensions>     (if extensions != "")
//	<extra, sorted by name>
//
// key is the client's Sec-WebSocket-Key as received (Request.Key after a
// successful [Check]); subprotocol is what Check selected; extensions is the
// accepted extension list, formatted by [AppendExtensions].
//
// extra is written by [net/http.Header.Write], which drops invalid field
// names and turns line breaks in values into spaces. WriteResponse returns
// an error without writing anything if subprotocol is not a token,
// extensions holds a control character, or extra names one of the headers
// above. It does not flush bw. It does not allocate when extra is
// empty and bw has room for the response (see [bufio.Writer.AvailableBuffer]).
func WriteResponse(bw *bufio.Writer, key []byte, subprotocol, extensions string, extra http.Header) error {
	if subprotocol != "" && !isToken(subprotocol) {
		return fmt.Errorf("handshake: subprotocol %q is not a token", subprotocol)
	}
	if !validFieldValue(extensions) {
		return fmt.Errorf("handshake: extensions %q hold a control character", extensions)
	}
	if err := checkExtra(extra, responseHeaders[:]); err != nil {
		return err
	}
	b := bw.AvailableBuffer()
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "...)
	b = AppendAcceptKey(b, key)
	b = append(b, "\r\n"...)
	if subprotocol != "" {
		b = appendField(b, hdrProtocol, subprotocol)
	}
	if extensions != "" {
		b = appendField(b, hdrExtensions, extensions)
	}
	if len(extra) == 0 {
		b = append(b, "\r\n"...)
		_, err := bw.Write(b)
		return err
	}
	if _, err := bw.Write(b); err != nil {
		return err
	}
	if err := extra.Write(bw); err != nil {
		return err
	}
	_, err := bw.WriteString("\r\n")
	return err
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// checkExtra returns an error if h names one of reserved, in any case.
func checkExtra(h http.Header, reserved []string) error {
	for name := range h {
		for _, r := range reserved {
			if equalFold(name, r) {
				return fmt.Errorf("handshake: extra header %q would override a handshake header", name)
			}
		}
	}
	return nil
}

// rejection is what WriteReject and RejectHTTP send for an error.
type rejection struct {
	status int
	body   string
	fields []headerField
}

type headerField struct{ name, value string }

// reject maps err to its response. An [*Error] (found with errors.As) gives
// its status, if that is a 4xx or 5xx, and its message as the body; any
// other error gives 400 and the status text, so that internal details do not
// reach the peer.
func reject(err error) rejection { return rejectFor(err, false) }

// rejectFor is reject for an HTTP/1.x request (h2 false) or an HTTP/2 one,
// which gets no connection-level fields: HTTP/2 forbids them (RFC 9113
// §8.2.2), and net/http's server takes "Connection: close" as an order
// to end the whole connection, every other stream on it with it.
func rejectFor(err error, h2 bool) rejection {
	status, body := http.StatusBadRequest, http.StatusText(http.StatusBadRequest)
	var e *Error
	if errors.As(err, &e) && e != nil {
		if e.Status >= 400 && e.Status <= 599 {
			status = e.Status
		}
		body = e.Error()
	}
	body += "\n"
	conn := headerField{"Connection", "close"}
	var extra []headerField
	switch {
	case h2 && status == http.StatusMethodNotAllowed:
		extra = []headerField{{"Allow", "CONNECT"}}
	case h2 && status == http.StatusUpgradeRequired:
		// A 426 must name the protocol to upgrade to in an Upgrade
		// field (RFC 9110 §15.5.22), which HTTP/2 forbids: 400, with
		// the version the server speaks (RFC 6455 §4.4).
		status = http.StatusBadRequest
		extra = []headerField{{hdrVersion, "13"}}
	case status == http.StatusMethodNotAllowed:
		// RFC 9110 §15.5.6: a 405 lists the allowed methods.
		extra = []headerField{{"Allow", "GET"}}
	case status == http.StatusUpgradeRequired:
		// RFC 9110 §15.5.22 and §7.8: a 426 names the protocol to
		// upgrade to, and Upgrade needs the "upgrade" connection option.
		// RFC 6455 §4.2.2: the versions the server speaks.
		conn.value = "Upgrade, close"
		extra = []headerField{{"Upgrade", "websocket"}, {hdrVersion, "13"}}
	}
	fields := append([]headerField{conn}, extra...)
	if h2 {
		fields = extra
	}
	fields = append(fields,
		headerField{"Content-Type", "text/plain; charset=utf-8"},
		headerField{"X-Content-Type-Options", "nosniff"},
		headerField{"Content-Length", strconv.Itoa(len(body))})
	return rejection{status: status, body: body, fields: fields}
}

// WriteReject writes the HTTP response that rejects a handshake for err:
// the status of the [*Error] in err's chain (400 if there is none, or if
// its status is not 4xx or 5xx), "Connection: close", a plain-text body
// holding the error message, and the headers the status calls for: "Allow:
// GET" with 405, "Upgrade: websocket" and "Sec-WebSocket-Version: 13" with
// 426 (RFC 6455 §4.2.2, §4.4). The caller should close the connection
// afterwards. WriteReject does not flush bw.
func WriteReject(bw *bufio.Writer, err error) error {
	rj := reject(err)
	b := bw.AvailableBuffer()
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(rj.status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(rj.status)...)
	b = append(b, "\r\n"...)
	for _, f := range rj.fields {
		b = appendField(b, f.name, f.value)
	}
	b = append(b, "\r\n"...)
	b = append(b, rj.body...)
	_, werr := bw.Write(b)
	return werr
}

// RejectHTTP is [WriteReject] for a net/http handler: it sets the same
// headers on w, writes the status and the body. net/http closes the
// connection after the response because of "Connection: close".
func RejectHTTP(w http.ResponseWriter, err error) { rejectHTTP(w, reject(err)) }

// RejectHTTP2 is [RejectHTTP] for a request that arrived over HTTP/2
// (RFC 8441): the same status and body, but 400 for 426 (whose Upgrade
// field HTTP/2 forbids) with "Sec-WebSocket-Version: 13" all the same,
// "Allow: CONNECT" with 405, and none of the fields that belong to an
// HTTP/1.1 connection (Connection, Upgrade), so that the refusal ends this
// stream and no other.
func RejectHTTP2(w http.ResponseWriter, err error) { rejectHTTP(w, rejectFor(err, true)) }

func rejectHTTP(w http.ResponseWriter, rj rejection) {
	h := w.Header()
	for _, f := range rj.fields {
		h.Set(f.name, f.value)
	}
	w.WriteHeader(rj.status)
	io.WriteString(w, rj.body)
}
