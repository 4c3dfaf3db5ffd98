package servers

import (
	"net"

	"github.com/lxzan/gws"
)

// serveGWS runs lxzan/gws with its event-driven API on its own raw-listener
// server (gws.NewServer(...).RunListener, which reads the request into a
// pooled bufio.Reader and upgrades with gws's Upgrader.UpgradeFromConn), the
// quick start of its README. OnMessage writes the message back and closes
// it, as its README's handler does. ParallelEnabled (named ReadAsyncEnabled
// in older releases) stays off: with GOMAXPROCS=1 parallel dispatch only
// adds a goroutine hop per message, and it may reorder a connection's
// messages, which an echo must not do. UTF-8 checking stays at its default
// (off), like gorilla's and coder's. With -deflate, PermessageDeflate is on
// without context takeover either way (compressors from gws's shared pool,
// messages of 512 bytes or more).
func serveGWS(ln net.Listener, deflate bool) {
	opt := &gws.ServerOption{
		PermessageDeflate: gws.PermessageDeflate{
			Enabled:               deflate,
			ServerContextTakeover: false,
			ClientContextTakeover: false,
		},
	}
	srv := gws.NewServer(gwsEcho{}, opt)
	srv.OnError = func(net.Conn, error) {} // failed upgrades are the client's business here
	_ = srv.RunListener(ln)
}

type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	_ = c.WriteMessage(m.Opcode, m.Bytes())
}
