//go:build linux

package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"aadcready/inventory"
	"aadcready/test/krbtest"
)

const (
	benchUser     = `CONTOSO\svc-aadcready`
	benchPassword = "Bench-Fleet-Pw-1" // a simulated fleet's; reaches children through the environment only
	passwordEnv   = "AADCREADY_PASSWORD"
	httpsPort     = 5986
)

// writeFleet writes the simulator's fleet file: n identical hosts named
// bench-00001… on consecutive loopback addresses from base, port 5985 (and
// 5986 with a certificate from the fleet's CA when https).
func writeFleet(path string, n int, base string, cfg config, https bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "address_base: %s\nusers: [{username: '%s', password: '%s'}]\nhosts:\n", base, benchUser, benchPassword)
	fmt.Fprintf(&b, "  - name: bench-%%05d\n    count: %d\n    latency: %s\n    ps_runtime: %s\n", n, cfg.latency, cfg.psRuntime)
	if https {
		fmt.Fprintf(&b, "    https_port: %d\n", httpsPort)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// httpsInventory turns the inventory `simulate --inventory-out` wrote (HTTP)
// into one that reaches the same hosts over HTTPS, trusting the fleet's CA.
func httpsInventory(httpInv, caFile, out string) error {
	inv, err := inventory.Load(httpInv)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  scheme: https\n  port: %d\n  auth: ntlm\n  ca_file: %s\n  password_env: %s\nhosts:\n", httpsPort, caFile, passwordEnv)
	for _, h := range inv.Hosts {
		fmt.Fprintf(&b, "  - {name: %q, address: %s, username: %q}\n", h.Name, h.Address, h.Username)
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// startRealm starts an MIT KDC in dir/kdc with the bench account (the
// fleet's password) and HTTP/<host> of the n hosts, whose keys go to
// dir/http.keytab for the simulator.
func startRealm(dir string, n int) (*krbtest.KDC, error) {
	kdir := filepath.Join(dir, "kdc")
	if err := os.MkdirAll(kdir, 0o700); err != nil {
		return nil, err
	}
	kdc, err := krbtest.Start(kdir)
	if err != nil {
		return nil, err
	}
	queries := []string{fmt.Sprintf("addprinc -policy %s -pw %s %s", krbtest.LockoutPolicy, benchPassword, krbUser)}
	for i := 1; i <= n; i++ {
		queries = append(queries, fmt.Sprintf("addprinc -randkey HTTP/bench-%05d", i))
	}
	queries = append(queries, fmt.Sprintf("ktadd -k %s -glob HTTP/*", filepath.Join(dir, "http.keytab")))
	if err := kdc.KadminBatch(queries); err != nil {
		kdc.Stop()
		return nil, err
	}
	return kdc, nil
}

// krbUser is the bench account in the KDC.
const krbUser = "svc-aadcready"

// kerberosInventory turns the simulator's inventory into one that logs on
// with Kerberos (the bench account's password, realm and KDC inline).
func kerberosInventory(httpInv string, kdc *krbtest.KDC, out string) error {
	inv, err := inventory.Load(httpInv)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  auth: kerberos\n  username: %s@%s\n  password_env: %s\n  kerberos:\n    realm: %s\n    kdc: %s\nhosts:\n",
		krbUser, kdc.Realm, passwordEnv, kdc.Realm, kdc.Addr)
	for _, h := range inv.Hosts {
		fmt.Fprintf(&b, "  - {name: %q, address: %s}\n", h.Name, h.Address)
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// firstHosts writes an inventory of the first n hosts of inv (the same
// settings), for the single-host scans.
func firstHosts(inv string, n int, out string) error {
	data, err := os.ReadFile(inv)
	if err != nil {
		return err
	}
	// The inventories here list each host on its own "  - " line or block;
	// cutting before the (n+1)th host keeps the first n.
	text := string(data)
	idx := 0
	for i := 0; i <= n; i++ {
		j := strings.Index(text[idx:], "\n  - ")
		if j < 0 {
			return os.WriteFile(out, data, 0o644)
		}
		if i == n {
			return os.WriteFile(out, []byte(text[:idx+j+1]), 0o644)
		}
		idx += j + 1
	}
	return nil
}

// hostList is what the Python peers read: every host's name and endpoint.
type hostEntry struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	URL     string `json:"url"`
}

func hostList(inv string) ([]hostEntry, error) {
	i, err := inventory.Load(inv)
	if err != nil {
		return nil, err
	}
	out := make([]hostEntry, len(i.Hosts))
	for k, h := range i.Hosts {
		out[k] = hostEntry{h.Name, h.DialAddress(), fmt.Sprintf("%s://%s:%d/wsman", h.Scheme, h.DialAddress(), h.Port)}
	}
	return out, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// verdicts counts the hosts of a change-board CSV (scan --csv) per verdict.
func verdicts(path string) (map[string]int, int, error) {
	return countColumn(path, "verdict")
}

func countColumn(path, column string) (map[string]int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	col := -1
	for i, h := range header {
		if strings.TrimPrefix(h, "\uFEFF") == column {
			col = i
		}
	}
	if col < 0 {
		return nil, 0, fmt.Errorf("%s: no %q column", filepath.Base(path), column)
	}
	counts, rows := map[string]int{}, 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return counts, rows, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		counts[rec[col]]++
		rows++
	}
}
