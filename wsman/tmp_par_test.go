package wsman

import (
	"bytes"
	"testing"
)

func BenchmarkTmpParallel(b *testing.B) {
	r := startResponder(b)
	stdin := bytes.Repeat([]byte("Write-Output 'probe'\r\n"), 1400)
	cfg := Config{Host: "127.0.0.1", Port: r.port, Auth: AuthNTLM, Username: `TESTDOM\alice`, Password: "Passw0rd!"}
	b.SetParallelism(16)
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, _ := New(cfg)
			res, err := c.Run(b.Context(), "echo-stdin", stdin)
			if err != nil || len(res.Stdout) != len(stdin) {
				b.Error(err)
			}
			c.Close()
		}
	})
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/host")
}
