package tmpexp

import (
	"fmt"
	"os"
	"strings"
	"runtime"
	"testing"
	"time"

	"aadcready/catalog"
	"aadcready/facts"
	"aadcready/probes"
	"aadcready/simulator"
)

func fullOutput() []byte {
	b, _ := os.ReadFile("../../probes/testdata/normal-host.txt")
	return b
}

func TestSizes(t *testing.T) {
	_ = simulator.DemoFleet
	// render a normal host's output via the demo profile
	set := facts.NewSet()
	out := probes.Render(nil, probes.BundleID(), probes.RenderOptions{})
	_ = set
	_ = out
	cat, _ := catalog.Load()
	n := 2000
	keep := make([]any, n)
	full := fullOutput()
	id := strings.Fields(strings.SplitN(string(full), "\n", 2)[0])[3]
	runtime.GC()
	var a, b, c runtime.MemStats
	runtime.ReadMemStats(&a)
	sets := make([]*facts.Set, n)
	for i := range n {
		sets[i], _ = probes.Parse(full, id)
	}
	runtime.GC()
	runtime.ReadMemStats(&b)
	for i := range n {
		keep[i] = cat.Evaluate(sets[i], catalog.Options{AsOf: time.Now()})
	}
	runtime.GC()
	runtime.ReadMemStats(&c)
	fmt.Println("facts per host", (b.HeapAlloc-a.HeapAlloc)/uint64(n), "eval per host", (c.HeapAlloc-b.HeapAlloc)/uint64(n), len(full))
	runtime.KeepAlive(keep)
	runtime.KeepAlive(sets)
}

func TestRegistry(t *testing.T) {
	fmt.Println("registry", len(facts.Registry))
	full := fullOutput()
	id := strings.Fields(strings.SplitN(string(full), "\n", 2)[0])[3]
	s, _ := probes.Parse(full, id)
	fmt.Println("facts", len(s.Facts))
	n := 2000
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	ms := make([]map[string]facts.Fact, n)
	for i := range ms {
		ms[i] = make(map[string]facts.Fact, len(facts.Registry))
	}
	runtime.GC()
	runtime.ReadMemStats(&b)
	fmt.Println("empty presized map", (b.HeapAlloc-a.HeapAlloc)/uint64(n))
	runtime.KeepAlive(ms)
}
