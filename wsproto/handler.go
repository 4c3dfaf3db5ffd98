//go:build !js

package wsproto

import "net/http"

// Handler returns an http.Handler that upgrades each request with opts (as
// Upgrade does, answering a bad request itself) and runs serve with the
// connection. Over HTTP/1.1 it runs serve on a goroutine of its own, then
// returns: net/http's goroutine for the request ends at once.
//
// That goroutine is the reason to use Handler rather than calling Upgrade
// and serving in the handler. net/http reads and routes the request on a
// goroutine whose stack has grown deep by the time a handler runs, and a
// goroutine's stack stays as large as it was at its deepest while it
// waits; the request's and the response's state stays reachable from it
// too. A connection served there keeps all that for as long as it is open.
// serve's goroutine starts with a small stack, so an idle connection costs
// about what one served after UpgradeConn does (see BenchmarkIdleConn).
//
// serve gets the request as it was when upgraded, for its URL, headers and
// path values. Over HTTP/1.1 its context ends when the handler returns,
// which is at once (net/http's rule for a connection taken over): give the
// connection's calls contexts of serve's own. serve must close the
// connection when it is done with it.
//
// Over HTTP/2 (RFC 8441) the connection is a stream of the request, which
// ends when the handler does: Handler runs serve on net/http's goroutine
// (net/http starts one per stream, with a small stack), and after serve
// returns it waits for the connection to be closed. The request's context
// then lasts as long as the connection, unless middleware shortened it. A
// connection that serve leaves open and no one reads is noticed only by
// the heartbeat (PingInterval) when its peer goes, as over HTTP/1.1.
func Handler(opts *UpgradeOptions, serve func(c *Conn, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, opts)
		if err != nil {
			return
		}
		if s, ok := c.nc.(*serverStream); ok {
			// Over HTTP/2 the stream ends with the handler: serve here,
			// and return once the Conn is closed.
			serveStream(c, r, s, serve)
			return
		}
		go serve(c, r)
	})
}

// serveStream runs serve for a Conn over HTTP/2 and waits for the Conn to
// be closed. A panic in serve closes the Conn before net/http recovers
// it, so that no write of another goroutine outlives the handler.
func serveStream(c *Conn, r *http.Request, s *serverStream, serve func(c *Conn, r *http.Request)) {
	defer func() {
		if p := recover(); p != nil {
			c.CloseNow()
			panic(p)
		}
	}()
	serve(c, r)
	<-s.done
}
