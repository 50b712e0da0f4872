//go:build linux && !race

package scanner

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/inventory"
	"aadcready/simulator"
)

// TestStayingPower runs 20 scans of 500 simulated hosts in one process and
// checks that goroutines and open file descriptors do not grow from the
// first scan to the last: a nightly scanner, or a service embedding the
// library, must not leak per host. It is 10× slower under the race
// detector, so it is built without it; test/run runs it on its own.
func TestStayingPower(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 host scans")
	}
	const (
		hosts = 500
		scans = 20
		// slack absorbs runtime helpers that come and go (a GC worker, a
		// timer); a leak of one goroutine or descriptor per host, or per
		// scan, is far beyond it.
		slackGoroutines = 10
		slackFDs        = 5
	)
	fleet := &simulator.Fleet{Source: t.Name(), AddressBase: "127.31.0.1"}
	for i := range hosts {
		fleet.Hosts = append(fleet.Hosts, simulator.Host{
			Name: fmt.Sprintf("stay-%03d", i), Port: 0,
			Users: []simulator.User{{Name: `CONTOSO\svc-scan`, Password: testPassword}},
		})
	}
	srv, err := simulator.Start(context.Background(), fleet, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	inv := &inventory.Inventory{Path: "staying-power"}
	for _, h := range fleet.Hosts {
		addr, _ := srv.Endpoint(h.Name)
		ip, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		inv.Hosts = append(inv.Hosts, inventory.Host{Name: h.Name, Address: ip, Port: p, Scheme: "http", Auth: "ntlm",
			Username: `CONTOSO\svc-scan`, Secret: inventory.SecretRef{Env: "TEST_PW"}})
	}
	opt := options(t)
	opt.Concurrency = 100
	opt.HostTimeout = time.Minute

	var firstG, firstFD int
	for i := range scans {
		run := Scan(context.Background(), inv, opt)
		if n := run.Summary.ByVerdict[string(catalog.VerdictOK)]; n != hosts {
			t.Fatalf("scan %d: %d of %d hosts OK: %+v", i+1, n, hosts, run.Summary)
		}
		g, fd := settle(firstG, firstFD, i == 0)
		if i == 0 {
			firstG, firstFD = g, fd
			continue
		}
		if i == scans-1 && (g > firstG+slackGoroutines || fd > firstFD+slackFDs) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after %d scans: %d goroutines, %d fds; after the first: %d, %d\n%s",
				scans, g, fd, firstG, firstFD, buf[:runtime.Stack(buf, true)])
		}
	}
	t.Logf("goroutines %d, fds %d after the first scan and within slack after %d", firstG, firstFD, scans)
}

// settle waits (at most 10 s) for connections the scan closed to be gone on
// both sides, then counts goroutines and descriptors. After the first scan
// it waits until the counts stop falling; later, until they are back to the
// first scan's.
func settle(g0, fd0 int, first bool) (int, int) {
	deadline := time.Now().Add(10 * time.Second)
	g, fd := runtime.NumGoroutine(), openFDs()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		ng, nfd := runtime.NumGoroutine(), openFDs()
		if first && ng == g && nfd == fd || !first && ng <= g0 && nfd <= fd0 {
			return ng, nfd
		}
		g, fd = ng, nfd
	}
	return g, fd
}

func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}
