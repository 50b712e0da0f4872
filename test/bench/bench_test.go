//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAnsibleAnswers(t *testing.T) {
	out := `bench-00001 | CHANGED | rc=0 | (stdout) bench-00001\r\n
bench-00002 | CHANGED | rc=0 | (stdout) bench-00003\r\n
bench-00004 | FAILED! => {"changed": true, "rc": 1}
bench-00005 | UNREACHABLE! => {"msg": "ntlm: HTTP 401"}
BENCH-00006 | CHANGED | rc=0 | (stdout) bench-00006\r\n
`
	if n, err := ansibleAnswers(strings.NewReader(out)); err != nil || n != 2 {
		t.Fatalf("ansibleAnswers = %d, %v; want 2 (a wrong name, a failure and an unreachable host do not count)", n, err)
	}
}

func TestFirstHostsAndCounts(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.yaml")
	text := "defaults:\n  scheme: http\nhosts:\n  - name: \"a\"\n    address: 127.0.0.1\n  - name: \"b\"\n    address: 127.0.0.2\n  - name: \"c\"\n    address: 127.0.0.3\n"
	if err := os.WriteFile(inv, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	one := filepath.Join(dir, "one.yaml")
	if err := firstHosts(inv, 1, one); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(one)
	if want := "defaults:\n  scheme: http\nhosts:\n  - name: \"a\"\n    address: 127.0.0.1\n"; string(got) != want {
		t.Fatalf("firstHosts kept %q, want %q", got, want)
	}

	csvFile := filepath.Join(dir, "hosts.csv")
	if err := os.WriteFile(csvFile, []byte("\uFEFFhost,verdict\r\na,OK\r\nb,MIGRATE\r\nc,OK\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	counts, rows, err := verdicts(csvFile)
	if err != nil || rows != 3 || counts["OK"] != 2 || counts["MIGRATE"] != 1 {
		t.Fatalf("verdicts = %v, %d, %v", counts, rows, err)
	}
}
