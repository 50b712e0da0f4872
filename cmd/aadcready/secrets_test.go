package main

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/crypto/md4"

	"aadcready/simulator"
)

// secretForms is every shape a password could leak in: as typed, as
// UTF-16LE (what NTLM hashes), base64 of both and of a Basic
// "user:password" header, and the NT and NTLMv2 one-way hashes in hex and
// base64.
func secretForms(user, domain, password string) map[string]string {
	u16 := func(s string) []byte {
		units := utf16.Encode([]rune(s))
		b := make([]byte, 2*len(units))
		for i, u := range units {
			binary.LittleEndian.PutUint16(b[2*i:], u)
		}
		return b
	}
	pw16 := u16(password)
	h := md4.New()
	h.Write(pw16)
	nt := h.Sum(nil)
	mac := hmac.New(md5.New, nt)
	mac.Write(u16(strings.ToUpper(user) + domain))
	ntv2 := mac.Sum(nil)
	basic := []byte(domain + `\` + user + ":" + password)
	forms := map[string]string{
		"password":             password,
		"password UTF-16LE":    string(pw16),
		"password hex":         hex.EncodeToString([]byte(password)),
		"password UTF-16 hex":  hex.EncodeToString(pw16),
		"NT hash hex":          hex.EncodeToString(nt),
		"NT hash HEX":          strings.ToUpper(hex.EncodeToString(nt)),
		"NT hash base64":       base64.StdEncoding.EncodeToString(nt),
		"NTLMv2 key hex":       hex.EncodeToString(ntv2),
		"NTLMv2 key base64":    base64.StdEncoding.EncodeToString(ntv2),
		"Basic header":         base64.StdEncoding.EncodeToString(basic),
		"Basic header raw url": base64.RawURLEncoding.EncodeToString(basic),
	}
	for name, b := range map[string][]byte{"password": []byte(password), "password UTF-16": pw16} {
		forms[name+" base64"] = base64.StdEncoding.EncodeToString(b)
		forms[name+" base64 raw"] = base64.RawStdEncoding.EncodeToString(b)
		forms[name+" base64 url"] = base64.URLEncoding.EncodeToString(b)
	}
	return forms
}

// Nothing secret reaches any log at any level, nor the run folder: a scan
// at debug level of hosts that accept the password (NTLM over HTTP, Basic
// over HTTPS), refuse it, and fail once and get retried.
func TestSecretsNeverLogged(t *testing.T) {
	const password = "Kx9\u00e9-Distinctive-Pa55phrase-4417"
	const other = "Some-Other-Password-0000"
	t.Setenv(testPasswordEnv, password)

	forms := secretForms("svc-aadcready", "CONTOSO", password)
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			// A fresh fleet per run: its injected fault fires once.
			ntlm := simHost("aadc-ntlm", "ws2019-v2-current", password)
			// Windows' Basic authentication takes local accounts only.
			basic := simHost("aadc-basic", "ws2019-v2-current", password)
			basic.HTTPS, basic.Basic = true, true
			basic.Users = []simulator.User{{Name: "aadcready-local", Password: password}}
			refuses := simHost("aadc-refuses", "ws2019-v2-current", other)
			retried := simHost("aadc-retried", "ws2019-v2-current", password)
			retried.Faults = []simulator.Fault{{Op: simulator.OpCreate, Reset: true, Times: 1}}
			hosts := []simulator.Host{ntlm, basic, refuses, retried}
			srv, err := simulator.Start(context.Background(), &simulator.Fleet{Source: t.Name(), Hosts: hosts}, simulator.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			dir := t.TempDir()
			ca := filepath.Join(dir, "ca.pem")
			if err := os.WriteFile(ca, srv.CAPEM(), 0o644); err != nil {
				t.Fatal(err)
			}
			var inv strings.Builder
			fmt.Fprintf(&inv, "defaults:\n  password_env: %s\n  username: '%s'\nhosts:\n", testPasswordEnv, testUser)
			for _, h := range hosts {
				addr, tlsAddr := srv.Endpoint(h.Name)
				if h.HTTPS {
					ip, port := splitHostPort(tlsAddr)
					fmt.Fprintf(&inv, "  - {name: %s, address: %s, port: %d, scheme: https, auth: basic, username: aadcready-local, ca_file: %s, server_name: %s}\n", h.Name, ip, port, ca, h.Name)
					continue
				}
				ip, port := splitHostPort(addr)
				fmt.Fprintf(&inv, "  - {name: %s, address: %s, port: %d}\n", h.Name, ip, port)
			}
			invPath := filepath.Join(dir, "inventory.yaml")
			if err := os.WriteFile(invPath, []byte(inv.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "runs")
			logFile := filepath.Join(t.TempDir(), "aadcready.log")
			// Once to stderr, once to --log-file; scan.log gets debug too.
			r := runCLI(t, "scan", "-i", invPath, "--log-level", "debug", "--log-format", format, "--out", out, "--retries", "1")
			if r.code != 2 {
				t.Fatalf("exit %d, want 2 (one host refuses the password)\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			rf := runCLI(t, "scan", "-i", invPath, "--log-level", "debug", "--log-format", format, "--log-file", logFile, "--retries", "1")
			if rf.code != 2 {
				t.Fatalf("exit %d with --log-file", rf.code)
			}
			run := checkRunFolder(t, latestRun(t, out))
			if v := hostByName(t, run, "aadc-basic").Verdict; v != "OK" {
				t.Errorf("aadc-basic: %s (the Basic path was not exercised)", v)
			}
			if h := hostByName(t, run, "aadc-retried"); len(h.Attempts) == 0 || h.Verdict != "OK" {
				t.Errorf("aadc-retried: %s after %d failed attempts (the retry path was not exercised)", h.Verdict, len(h.Attempts))
			}
			if h := hostByName(t, run, "aadc-refuses"); h.Failure == nil || !strings.Contains(h.Failure.Class, "auth") {
				t.Errorf("aadc-refuses: %+v (the refused-logon path was not exercised)", h.Failure)
			}

			texts := map[string]string{"stderr": r.stderr, "stdout": r.stdout, "stderr (--log-file run)": rf.stderr}
			if b, err := os.ReadFile(logFile); err == nil {
				texts["--log-file"] = string(b)
			} else {
				t.Error(err)
			}
			files, _ := filepath.Glob(filepath.Join(latestRun(t, out), "*"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				texts[filepath.Base(f)] = string(b)
			}
			// The debug log must really carry the per-request detail, or
			// this test proves nothing.
			for where, text := range map[string]string{"stderr": r.stderr, "scan.log": texts["scan.log"]} {
				if n := strings.Count(text, "wsman request"); n < 6 {
					t.Errorf("%s has %d per-request debug lines, want the whole exchange", where, n)
				}
			}
			for where, text := range texts {
				for name, form := range forms {
					if strings.Contains(text, form) {
						t.Errorf("%s contains the %s (%q)", where, name, form)
					}
				}
			}
		})
	}
}
