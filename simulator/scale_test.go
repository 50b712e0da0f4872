package simulator

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// TestManyHosts starts 300 hosts, each on its own loopback address, talks
// to some of them, leaves connections idle, hung and mid-Receive, closes
// the server and checks that no goroutine or file descriptor is left.
func TestManyHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 300 listeners")
	}
	runtime.GC()
	goroutines, fds := runtime.NumGoroutine(), openFDs()

	hosts := make([]Host, 300)
	for i := range hosts {
		hosts[i] = Host{Name: fmt.Sprintf("host-%03d", i), Users: []User{{Name: testUser, Password: testPassword}}}
		switch i % 50 {
		case 1:
			hosts[i].Behavior = BehaviorHang
		case 2:
			hosts[i].Behavior = BehaviorRefuse
		case 3:
			hosts[i].HTTPS = true
		case 4:
			hosts[i].PSRuntime = time.Hour // a Receive waits on it when Close comes
		}
	}
	s, err := Start(t.Context(), &Fleet{Source: "scale", AddressBase: "127.4.0.1", Hosts: hosts}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var clients []*testClient
	for i := 0; i < len(hosts); i += 10 {
		c := &testClient{t: t, user: testUser, password: testPassword}
		c.addr, _ = s.Endpoint(hosts[i].Name)
		if r := c.run("hostname", nil); string(r.stdout) != hosts[i].Name+"\r\n" {
			t.Fatalf("%s answered %q", hosts[i].Name, r.stdout)
		}
		clients = append(clients, c) // the connection stays open, idle
	}
	for i := 4; i < len(hosts); i += 50 {
		c := &testClient{t: t, user: testUser, password: testPassword, opTimeout: "PT60S"}
		c.addr, _ = s.Endpoint(hosts[i].Name)
		shell := c.createShell()
		_, id := c.startCommand(shell, "powershell.exe -Command Get-Date", false)
		wg.Add(1)
		go func() { // blocks in Receive until Close
			defer wg.Done()
			msg, _ := c.soapRequest(actionReceive, resourceCmd, shell, "", `<rsp:Receive><rsp:DesiredStream CommandId="`+id+`">stdout</rsp:DesiredStream></rsp:Receive>`)
			c.post(msg)
		}()
		clients = append(clients, c)
	}
	for i := 1; i < len(hosts); i += 50 {
		c := &testClient{t: t}
		c.addr, _ = s.Endpoint(hosts[i].Name)
		if err := c.dial(); err != nil {
			t.Fatalf("hang host: %v", err)
		}
		clients = append(clients, c)
	}
	time.Sleep(100 * time.Millisecond) // let the Receives arrive

	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Close took %v", d)
	}
	for _, c := range clients {
		c.close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, f := runtime.NumGoroutine(), openFDs()
		if g <= goroutines && f <= fds {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("after Close: %d goroutines (before %d), %d fds (before %d)\n%s", g, goroutines, f, fds, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
