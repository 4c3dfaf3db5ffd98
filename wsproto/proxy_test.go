//go:build !js

package wsproto

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connectProxy is an HTTP CONNECT proxy (RFC 9110 §9.3.6) on loopback. It
// sends every tunnel to backend, whatever host was asked for, so that tests
// can dial names that resolve nowhere. With user set, it wants that basic
// authentication; with refuse, it answers 403.
type connectProxy struct {
	addr    string
	backend string
	user    string // "name:password"
	refuse  bool

	mu      sync.Mutex
	asked   []string // the CONNECT targets, in order
	authOK  []bool
	tunnels sync.WaitGroup
}

func newConnectProxy(t *testing.T, backend string, tlsConfig *tls.Config) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	p := &connectProxy{addr: ln.Addr().String(), backend: backend}
	t.Cleanup(func() {
		ln.Close()
		p.tunnels.Wait()
	})
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			p.tunnels.Add(1)
			go p.serve(nc)
		}
	}()
	return p
}

func (p *connectProxy) serve(nc net.Conn) {
	defer p.tunnels.Done()
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	ok := p.user == "" || req.Header.Get("Proxy-Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(p.user))
	p.mu.Lock()
	p.asked = append(p.asked, req.Host)
	p.authOK = append(p.authOK, ok)
	p.mu.Unlock()
	switch {
	case req.Method != http.MethodConnect:
		_, _ = io.WriteString(nc, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	case !ok:
		_, _ = io.WriteString(nc, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
		return
	case p.refuse:
		_, _ = io.WriteString(nc, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", p.backend)
	if err != nil {
		_, _ = io.WriteString(nc, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	_ = nc.SetDeadline(time.Time{})
	if _, err := io.WriteString(nc, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, br)
		up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(nc, up)
	nc.Close()
	<-done
}

func (p *connectProxy) targets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

// echoBackend is an echo server behind net/http, over TLS with tlsServer.
func echoBackend(t *testing.T, tlsServer bool) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, &UpgradeOptions{InsecureSkipOriginCheck: true})
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-echoLoop(c)
	})
	var srv *httptest.Server
	if tlsServer {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

// echoOnce sends a message on c, checks its echo, and closes c.
func echoOnce(t *testing.T, c *Conn) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, c.WriteMessage(ctx, MessageText, []byte("through the proxy")))
	_, got, err := c.ReadMessage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "through the proxy", string(got))
	require.NoError(t, c.Close(CloseNormalClosure, ""))
}

func TestDialThroughProxy(t *testing.T) {
	ctx := context.Background()
	plain := echoBackend(t, false)
	secure := echoBackend(t, true)
	serverTLS := secure.Client().Transport.(*http.Transport).TLSClientConfig
	for _, tc := range []struct {
		name       string
		secureDest bool // wss:// to the backend, TLS inside the tunnel
		secureHop  bool // an https:// proxy
		user       string
	}{
		{"ws through an http proxy", false, false, ""},
		{"wss through an http proxy", true, false, ""},
		{"ws through an https proxy", false, true, ""},
		{"wss through an https proxy", true, true, ""},
		{"with basic authentication", false, false, "alice:s3cret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			backend, scheme := plain, "ws"
			if tc.secureDest {
				backend, scheme = secure, "wss"
			}
			var proxyTLS *tls.Config
			if tc.secureHop {
				proxyTLS = secure.TLS // the test server's certificate, which serverTLS trusts
			}
			p := newConnectProxy(t, backend.Listener.Addr().String(), proxyTLS)
			p.user = tc.user
			proxyURL := &url.URL{Scheme: "http", Host: p.addr}
			if tc.secureHop {
				proxyURL.Scheme = "https"
			}
			if tc.user != "" {
				name, password, _ := strings.Cut(tc.user, ":")
				proxyURL.User = url.UserPassword(name, password)
			}
			tlsConfig := serverTLS.Clone()
			tlsConfig.ServerName = "example.com" // httptest's certificate names it, and 127.0.0.1
			c, resp, err := Dial(ctx, scheme+"://example.com/chat", &DialOptions{
				Proxy:     http.ProxyURL(proxyURL),
				TLSConfig: tlsConfig,
			})
			require.NoError(t, err)
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			echoOnce(t, c)
			port := "80"
			if tc.secureDest {
				port = "443"
			}
			assert.Equal(t, []string{"example.com:" + port}, p.targets())
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		p := newConnectProxy(t, plain.Listener.Addr().String(), nil)
		p.user = "alice:s3cret"
		_, _, err := Dial(ctx, "ws://example.com/", &DialOptions{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: p.addr, User: url.UserPassword("alice", "guess")})})
		require.ErrorIs(t, err, ErrProxyRefused)
		assert.ErrorContains(t, err, "407 Proxy Authentication Required")
	})
	t.Run("refusing proxy", func(t *testing.T) {
		p := newConnectProxy(t, plain.Listener.Addr().String(), nil)
		p.refuse = true
		_, _, err := Dial(ctx, "ws://example.com/", &DialOptions{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: p.addr})})
		require.ErrorIs(t, err, ErrProxyRefused)
		assert.ErrorContains(t, err, "403 Forbidden")
	})
	t.Run("proxy that is not there", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		_, _, err = Dial(ctx, "ws://example.com/", &DialOptions{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: addr})})
		require.Error(t, err)
		assert.ErrorContains(t, err, "dial proxy")
	})
	t.Run("no proxy for this request", func(t *testing.T) {
		c, _, err := Dial(ctx, "ws"+strings.TrimPrefix(plain.URL, "http"), &DialOptions{
			Proxy: func(*http.Request) (*url.URL, error) { return nil, nil },
		})
		require.NoError(t, err)
		echoOnce(t, c)
	})
}

// proxyChildEnv marks the child process of TestDialProxyFromEnvironment,
// whose environment names the proxy.
const proxyChildEnv = "WSPROTO_PROXY_CHILD"

// TestDialProxyFromEnvironment runs Dial with no Proxy in child processes
// whose environment names a proxy: HTTP_PROXY takes a ws:// dial through
// it; NO_PROXY sends it straight to the server. (The environment is read
// once per process by net/http, hence the children.)
func TestDialProxyFromEnvironment(t *testing.T) {
	if os.Getenv(proxyChildEnv) != "" {
		t.Skip("run by the parent")
	}
	backend := echoBackend(t, false)
	p := newConnectProxy(t, backend.Listener.Addr().String(), nil)
	for _, tc := range []struct {
		name    string
		env     []string
		proxied bool
	}{
		{"HTTP_PROXY", []string{"HTTP_PROXY=http://" + p.addr, "NO_PROXY="}, true},
		{"NO_PROXY", []string{"HTTP_PROXY=http://" + p.addr, "NO_PROXY=.invalid"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(p.targets())
			child := exec.Command(os.Args[0], "-test.run=^TestDialProxyChild$", "-test.v")
			child.Env = append(os.Environ(), append(tc.env, proxyChildEnv+"="+backend.Listener.Addr().String())...)
			out, err := child.CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Contains(t, string(out), "--- PASS: TestDialProxyChild")
			if tc.proxied {
				assert.Equal(t, []string{"echo.invalid:80"}, p.targets()[before:])
			} else {
				assert.Len(t, p.targets(), before, "the proxy was not asked")
			}
		})
	}
}

// TestDialProxyChild is the child's part: dial ws://echo.invalid/, which
// only the proxy knows how to reach; without a proxy, the dialer sends it
// to the backend itself.
func TestDialProxyChild(t *testing.T) {
	backend := os.Getenv(proxyChildEnv)
	if backend == "" {
		t.Skip("run by TestDialProxyFromEnvironment")
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "echo.invalid:80" {
			addr = backend // no proxy: straight to the server
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	c, _, err := Dial(context.Background(), "ws://echo.invalid/", &DialOptions{NetDialContext: dial})
	require.NoError(t, err)
	echoOnce(t, c)
}

// TestDialHostJarAndTLSHook: the Host override reaches the server, the jar's
// cookies go out and the response's come back into it, and a TLS dial
// hook opens wss:// connections.
func TestDialHostJarAndTLSHook(t *testing.T) {
	ctx := context.Background()
	seen := make(chan *http.Request, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Clone(context.Background())
		c, err := Upgrade(w, r, &UpgradeOptions{
			InsecureSkipOriginCheck: true,
			Header:                  http.Header{"Set-Cookie": {"session=new; Path=/"}},
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-echoLoop(c)
	}))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	u, _ := url.Parse("https://" + srv.Listener.Addr().String() + "/")
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "old"}})
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig
	var hooked bool
	c, _, err := Dial(ctx, "wss://"+srv.Listener.Addr().String()+"/", &DialOptions{
		Host: "chat.example",
		Jar:  jar,
		NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			hooked = true
			return (&tls.Dialer{Config: tlsConfig}).DialContext(ctx, network, addr)
		},
	})
	require.NoError(t, err)
	echoOnce(t, c)
	assert.True(t, hooked)
	r := <-seen
	assert.Equal(t, "chat.example", r.Host)
	ck, err := r.Cookie("session")
	require.NoError(t, err)
	assert.Equal(t, "old", ck.Value)
	got := jar.Cookies(u)
	require.Len(t, got, 1)
	assert.Equal(t, "new", got[0].Value, "the response's cookie is kept")
}
