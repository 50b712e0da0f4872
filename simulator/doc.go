// Package simulator serves simulated Windows servers over WinRM on loopback,
// for tests, the demo and benchmarks: each host on its own 127.x.y.z
// address, with Windows' default WinRM service settings (HTTP with sealed
// NTLM, Basic off), the WinRS shell protocol with its quotas, limits and
// fault shapes, and a PowerShell that answers the probe bundle with the
// host's facts (probes.Render).
//
// A fleet comes from a YAML file (LoadFleet, ParseFleet), from DemoFleet,
// or from Go; Start serves it until Close. What is faithful to Windows and
// what is only approximated is in docs/simulator.md.
package simulator
