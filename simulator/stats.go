package simulator

import "sync/atomic"

// Stats is a snapshot of what the server saw, per host.
type Stats struct {
	Hosts map[string]HostStats `json:"hosts"`
}

// HostStats counts one host's traffic since Start.
type HostStats struct {
	Connections  int64    `json:"connections"`   // TCP connections accepted (HTTP and HTTPS)
	Requests     int64    `json:"requests"`      // HTTP requests received
	AuthAttempts int64    `json:"auth_attempts"` // credentials checked: a Basic header or an NTLM AUTHENTICATE message
	AuthFailures int64    `json:"auth_failures"` // of those, rejected
	Unauthorized int64    `json:"unauthorized"`  // 401 answers, challenges included
	Faults       int64    `json:"faults"`        // SOAP faults answered, injected or not
	ShellsOpen   int      `json:"shells_open"`   // shells that exist now
	Ops          OpCounts `json:"ops"`
}

// OpCounts counts the WS-Management requests that reached the service,
// whatever their outcome.
type OpCounts struct {
	Create  int64 `json:"create"`
	Command int64 `json:"command"`
	Send    int64 `json:"send"`
	Receive int64 `json:"receive"`
	Signal  int64 `json:"signal"`
	Delete  int64 `json:"delete"`
	Get     int64 `json:"get"`
	Other   int64 `json:"other"`
}

// Total adds up every host.
func (s Stats) Total() HostStats {
	var t HostStats
	for _, h := range s.Hosts {
		t.Connections += h.Connections
		t.Requests += h.Requests
		t.AuthAttempts += h.AuthAttempts
		t.AuthFailures += h.AuthFailures
		t.Unauthorized += h.Unauthorized
		t.Faults += h.Faults
		t.ShellsOpen += h.ShellsOpen
		t.Ops.Create += h.Ops.Create
		t.Ops.Command += h.Ops.Command
		t.Ops.Send += h.Ops.Send
		t.Ops.Receive += h.Ops.Receive
		t.Ops.Signal += h.Ops.Signal
		t.Ops.Delete += h.Ops.Delete
		t.Ops.Get += h.Ops.Get
		t.Ops.Other += h.Ops.Other
	}
	return t
}

// counters are a host's live counters: atomics, so handlers never take a
// lock to count.
type counters struct {
	connections, requests, authAttempts, authFailures, unauthorized, faults atomic.Int64
	ops                                                                     [numOps]atomic.Int64
}

// Operation indexes into counters.ops.
const (
	opCreate = iota
	opCommand
	opSend
	opReceive
	opSignal
	opDelete
	opGet
	opOther
	numOps
)

func (c *counters) snapshot() HostStats {
	return HostStats{
		Connections:  c.connections.Load(),
		Requests:     c.requests.Load(),
		AuthAttempts: c.authAttempts.Load(),
		AuthFailures: c.authFailures.Load(),
		Unauthorized: c.unauthorized.Load(),
		Faults:       c.faults.Load(),
		Ops: OpCounts{
			Create: c.ops[opCreate].Load(), Command: c.ops[opCommand].Load(), Send: c.ops[opSend].Load(),
			Receive: c.ops[opReceive].Load(), Signal: c.ops[opSignal].Load(), Delete: c.ops[opDelete].Load(),
			Get: c.ops[opGet].Load(), Other: c.ops[opOther].Load(),
		},
	}
}
