package tmpexp

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/inventory"
	"aadcready/scanner"
	"aadcready/simulator"
)

func TestRetained(t *testing.T) {
	n := 300
	fleet := &simulator.Fleet{Source: "x", AddressBase: "127.22.0.1"}
	for i := 0; i < n; i++ {
		fleet.Hosts = append(fleet.Hosts, simulator.Host{Name: fmt.Sprintf("h-%04d", i), Users: []simulator.User{{Name: `CONTOSO\svc`, Password: "pw"}}})
	}
	srv, err := simulator.Start(context.Background(), fleet, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	inv := &inventory.Inventory{}
	for _, h := range fleet.Hosts {
		addr, _ := srv.Endpoint(h.Name)
		ip, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		inv.Hosts = append(inv.Hosts, inventory.Host{Name: h.Name, Address: ip, Port: p, Scheme: "http", Auth: "ntlm", Username: `CONTOSO\svc`, Secret: inventory.SecretRef{Env: "X"}})
	}
	cat, _ := catalog.Load()
	opt := scanner.Options{Concurrency: 50, Catalog: cat, AsOf: time.Now(), Password: func(inventory.SecretRef) (string, error) { return "pw", nil }}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	run := scanner.Scan(context.Background(), inv, opt)
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	f, _ := os.Create("/tmp/retained.prof")
	pprof.Lookup("heap").WriteTo(f, 0)
	f.Close()
	fmt.Println("per host retained", (int64(after.HeapAlloc)-int64(before.HeapAlloc))/int64(n), run.Summary)
	runtime.KeepAlive(run)
}
