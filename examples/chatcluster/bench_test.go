package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
)

// The cluster's load: clients spread over benchRooms rooms, and each
// room's over the nodes, round robin, each sending a message a second, for benchWarmup
// then benchWindow, which is measured. Every message reaches every member
// of its room, its sender included.
const (
	benchRooms  = 30
	benchWarmup = 3 * time.Second
	benchWindow = 10 * time.Second
)

// BenchmarkCluster runs 1 node, then 3, on one NATS server (in this
// process, beside the clients), under 1,000, 2,000 and 3,000 clients:
//
//	go test -run '^$' -bench Cluster -benchtime 1x -count 3
//
// It reports messages delivered to clients per second (delivered/s) and
// the share of those the load asks for (delivered-%), the latency from a
// message's sending to its receipt by a member on another node (on the
// one node, by another member) at the median and the 99th percentile
// (p50-ms, p99-ms), and the nodes' memory per connection (RSS-B/conn,
// measured with the clients connected, before the load).
func BenchmarkCluster(b *testing.B) {
	for _, nodes := range []int{1, 3} {
		for _, clients := range []int{1000, 2000, 3000} {
			b.Run(fmt.Sprintf("nodes=%d/clients=%d", nodes, clients), func(b *testing.B) {
				for range b.N {
					runClusterLoad(b, nodes, clients)
				}
			})
		}
	}
}

// loadClient is one client of the load, and what it received.
type loadClient struct {
	node  int
	conn  *wsproto.Conn
	id    string // "node.index"
	lat   []time.Duration
	count int64
	cut   bool // the connection ended before the load did
}

func runClusterLoad(b *testing.B, nodes, clients int) {
	b.StopTimer()
	ns := startNATS(b)
	var ns1 []*node
	for range nodes {
		ns1 = append(ns1, startNode(b, "-nats", ns.url()))
	}
	base := make([]int64, nodes)
	for i, n := range ns1 {
		base[i] = rss(n.cmd.Process.Pid)
	}

	// Connect, 50 at a time.
	cs := make([]*loadClient, clients)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	var dialErr atomic.Value
	for i := range cs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			// Each room's members are spread over every node.
			n := (i / benchRooms) % nodes
			room := "room-" + strconv.Itoa(i%benchRooms)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			url := "ws://" + ns1[n].addr + "/chats/" + room + "/ws?name=c" + strconv.Itoa(i)
			conn, _, err := wsproto.Dial(ctx, url, nil)
			if err != nil {
				dialErr.Store(err)
				return
			}
			// welcome and history
			for range 2 {
				if _, _, err := conn.ReadMessage(ctx, nil); err != nil {
					dialErr.Store(err)
					return
				}
			}
			cs[i] = &loadClient{node: n, conn: conn, id: strconv.Itoa(n) + "." + strconv.Itoa(i)}
		})
	}
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		b.Fatalf("connecting: %v", err)
	}
	var perConn []float64
	for i, n := range ns1 {
		perConn = append(perConn, float64(rss(n.cmd.Process.Pid)-base[i])/float64(clients/nodes))
	}

	start := time.Now()
	measureFrom, measureTo := start.Add(benchWarmup), start.Add(benchWarmup+benchWindow)
	stop := make(chan struct{})
	var readers, senders sync.WaitGroup
	for _, c := range cs {
		readers.Go(func() { c.read(nodes > 1, measureFrom, measureTo) })
		senders.Go(func() { c.send(stop) })
	}
	// CPU time over the window: the nodes', and this process's (the
	// clients and the NATS server).
	pids := []int{os.Getpid()}
	for _, n := range ns1 {
		pids = append(pids, n.cmd.Process.Pid)
	}
	time.Sleep(time.Until(measureFrom))
	cpu0 := cpuTimes(pids)
	b.StartTimer()
	time.Sleep(time.Until(measureTo))
	b.StopTimer()
	cpu1 := cpuTimes(pids)
	var nodeCPU time.Duration
	for i := 1; i < len(pids); i++ {
		nodeCPU += cpu1[i] - cpu0[i]
	}
	b.ReportMetric(nodeCPU.Seconds()/benchWindow.Seconds(), "node-cores")
	b.ReportMetric((cpu1[0]-cpu0[0]).Seconds()/benchWindow.Seconds(), "clients+nats-cores")
	close(stop)
	senders.Wait()
	for _, c := range cs {
		_ = c.conn.CloseNow()
	}
	readers.Wait()

	var all []time.Duration
	var delivered int64
	cut := 0
	for _, c := range cs {
		all = append(all, c.lat...)
		delivered += c.count
		if c.cut {
			cut++
		}
	}
	b.ReportMetric(float64(cut), "clients-cut")
	slices.Sort(all)
	perRoom := float64(clients) / benchRooms
	want := float64(clients) * perRoom // a message a second from each, to each member of its room
	rate := float64(delivered) / benchWindow.Seconds()
	b.ReportMetric(rate, "delivered/s")
	b.ReportMetric(100*rate/want, "delivered-%")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
	slices.Sort(perConn)
	b.ReportMetric(perConn[len(perConn)/2], "RSS-B/conn")
	b.ReportMetric(0, "ns/op")
}

// send sends a message a second, from a random moment in the first, until
// stop; its text is the client's id and the time it was sent.
func (c *loadClient) send(stop <-chan struct{}) {
	select {
	case <-time.After(time.Duration(rand.Int64N(int64(time.Second)))):
	case <-stop:
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		text := c.id + " " + strconv.FormatInt(time.Now().UnixNano(), 10)
		msg := `{"type":"message","text":"` + text + `"}`
		if c.conn.WriteMessage(context.Background(), wsproto.MessageText, []byte(msg)) != nil {
			return
		}
		select {
		case <-t.C:
		case <-stop:
			return
		}
	}
}

var textField = []byte(`"text":"`)

// read counts the chat messages received in [from, to), and records the
// latency of those sent from another node (or, with one node, by another
// client).
func (c *loadClient) read(crossOnly bool, from, to time.Time) {
	var buf []byte
	myNode := strconv.Itoa(c.node) + "."
	for {
		_, p, err := c.conn.ReadMessage(context.Background(), buf)
		if err != nil {
			c.cut = time.Now().Before(to)
			return
		}
		buf = p
		now := time.Now()
		if now.Before(from) || !now.Before(to) {
			continue
		}
		i := bytes.Index(p, textField)
		if i < 0 {
			continue
		}
		text := p[i+len(textField):]
		text = text[:bytes.IndexByte(text, '"')]
		sender, sent, ok := strings.Cut(string(text), " ")
		if !ok {
			continue
		}
		c.count++
		if sender == c.id || crossOnly && strings.HasPrefix(sender, myNode) {
			continue
		}
		ns, err := strconv.ParseInt(sent, 10, 64)
		if err == nil {
			c.lat = append(c.lat, now.Sub(time.Unix(0, ns)))
		}
	}
}

// cpuTimes returns the CPU time (user and system) each process has used.
func cpuTimes(pids []int) []time.Duration {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command's name, which is in parentheses:
		// utime and stime are the 12th and 13th, in clock ticks (100 Hz).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		out[i] = time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return out
}

// rss returns the resident set of a process, in bytes.
func rss(pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
