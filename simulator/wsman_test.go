package simulator

import (
	"encoding/base64"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"aadcready/facts"
	"aadcready/probes"
)

func encodeCommand(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// TestCommandLines: what cmd.exe, CreateProcess and powershell.exe make of
// command lines, including their length limits.
func TestCommandLines(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01"})
	c := client(t, s, "aadc01", false)
	x := func(n int) string { return strings.Repeat("x", n) }
	for name, tt := range map[string]struct {
		cmd            string
		skipCmd        bool
		fault          string // the Command request fails with this code
		stdout, stderr string // substrings; "" means empty
		code           int
	}{
		"hostname":                     {cmd: "hostname", stdout: "aadc01\r\n"},
		"hostname without cmd.exe":     {cmd: `C:\Windows\System32\HOSTNAME.EXE`, skipCmd: true, stdout: "aadc01\r\n"},
		"cmd /c hostname":              {cmd: `cmd.exe /c "hostname"`, stdout: "aadc01\r\n"},
		"echo":                         {cmd: "echo hello  world", stdout: "hello  world\r\n"},
		"echo to stderr":               {cmd: "echo oops 1>&2", stderr: "oops \r\n"},
		"echo is a cmd.exe builtin":    {cmd: "echo hi", skipCmd: true, fault: "2147942402"},
		"unknown program":              {cmd: "frobnicate /x", stderr: "'frobnicate' is not recognized as an internal or external command", code: 9009},
		"unknown program, no cmd.exe":  {cmd: "frobnicate.exe", skipCmd: true, fault: "2147942402"},
		"exit code":                    {cmd: "exit /b 3", code: 3},
		"&& stops at a failure":        {cmd: "echo a && exit 2 && echo b", stdout: "a \r\n", code: 2},
		"& goes on":                    {cmd: "exit 2 & echo b", stdout: "b\r\n"},
		"cmd.exe at its limit":         {cmd: "echo " + x(8191-5), stdout: x(8186) + "\r\n"},
		"cmd.exe over its limit":       {cmd: "echo " + x(8191-4), stderr: "The command line is too long.\r\n", code: 1},
		"CreateProcess over its limit": {cmd: "echo " + x(32767), fault: "2147942606"},
		"CreateProcess limit, no cmd":  {cmd: "hostname " + x(32767-8), skipCmd: true, fault: "2147942606"},
		"powershell, unknown script": {cmd: "powershell.exe -NoProfile -NonInteractive -EncodedCommand " + encodeCommand("Get-Nothing -Now"),
			stderr: "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">Get-Nothing : The term 'Get-Nothing' is not recognized", code: 1},
		// Ansible's raw module sends its command as a PowerShell script.
		"powershell runs hostname":                         {cmd: "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand " + encodeCommand("hostname"), stdout: "aadc01\r\n"},
		"powershell, hostname.exe":                         {cmd: "powershell.exe -EncodedCommand " + encodeCommand("  HOSTNAME.EXE\r\n"), stdout: "aadc01\r\n"},
		"powershell, more than a program is not simulated": {cmd: "powershell.exe -EncodedCommand " + encodeCommand("hostname; hostname"), stderr: "hostname : The term 'hostname' is not recognized", code: 1},
		"powershell -Command":                              {cmd: `powershell -c "Write-Output 1"`, stderr: "Write-Output : The term", code: 1},
		"powershell bad base64":                            {cmd: "powershell -e %%%", stderr: "not properly encoded", code: 1},
		// The bundle on the command line (not on stdin) is far past cmd.exe's
		// limit: the reason the scanner sends it on stdin.
		"inline bundle":       {cmd: "powershell.exe -EncodedCommand " + encodeCommand(probes.Bundle()), fault: "2147942606"},
		"inline small script": {cmd: "powershell.exe -EncodedCommand " + encodeCommand(strings.Repeat("Get-Nothing ", 700)), stderr: "The command line is too long.", code: 1},
	} {
		t.Run(name, func(t *testing.T) {
			shell := c.createShell()
			defer c.deleteShell(shell)
			status, resp := c.call(actionCommand, shell,
				`<wsman:OptionSet><wsman:Option Name="WINRS_SKIP_CMD_SHELL">`+strings.ToUpper(strconv.FormatBool(tt.skipCmd))+`</wsman:Option></wsman:OptionSet>`,
				`<rsp:CommandLine><rsp:Command>`+xmlText(tt.cmd)+`</rsp:Command></rsp:CommandLine>`)
			if tt.fault != "" {
				if status != 500 || !strings.Contains(resp, `Code="`+tt.fault+`"`) || !strings.Contains(resp, `<f:ProviderFault provider="Shell cmd plugin"`) {
					t.Fatalf("Command: %d %s, want fault %s", status, truncate(resp, 2000), tt.fault)
				}
				return
			}
			id := between(resp, "<rsp:CommandId>", "<")
			r := c.receiveAll(shell, id)
			c.signal(shell, id)
			check := func(what string, got []byte, want string) {
				if want == "" && len(got) != 0 || !strings.Contains(string(got), want) {
					t.Errorf("%s = %q, want %q", what, truncate(string(got), 300), truncate(want, 300))
				}
			}
			check("stdout", r.stdout, tt.stdout)
			check("stderr", r.stderr, tt.stderr)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d", r.code, tt.code)
			}
		})
	}
}

// TestProbeBundle runs the scanner's command line with the bundle on
// stdin, padded past 100 KB and sent in chunks, and parses the output back
// into the host's facts.
func TestProbeBundle(t *testing.T) {
	host := Host{
		Name: "aadc-appauth", Profile: "ws2022-v2-needs-appauth", MaxEnvelopeKB: 150,
		Facts: map[string]facts.Fact{
			"os.ubr":                {Status: facts.StatusOK, Value: int64(4242)},
			"reboot.pending":        {Status: facts.StatusError, Reason: "Access is denied"},
			"hw.system_drive":       {Status: facts.StatusAbsent},
			"aadc.wizard_path":      {Status: facts.StatusOK, Value: `C:\Program Files\Ünïcode\AzureADConnect.exe`},
			"localdb.mdf_bytes":     {Status: facts.StatusOK, Value: int64(123)},
			"adsync.db_instance":    {Status: facts.StatusOK, Value: "ADSync2019"},
			"domain.part_of_domain": {Status: facts.StatusOK, Value: true},
		},
		FailProbes: map[string]string{"adsync": "Access is denied."},
		OmitProbes: []string{"hardware"},
	}
	s := startHosts(t, host)
	c := client(t, s, host.Name, false)
	bundle := probes.BundleWithPadding(120_000)
	if len(bundle) < 100_000 {
		t.Fatalf("bundle is only %d bytes", len(bundle))
	}
	r := c.run(probes.CommandLine(), []byte(bundle))
	if r.code != 0 || len(r.stderr) != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	got, diag := probes.Parse(r.stdout, probes.BundleID())
	if len(diag.Problems) != 0 {
		t.Errorf("parse problems: %v", diag.Problems)
	}
	want := s.byName[host.Name].factSet()
	for _, def := range facts.Registry {
		switch def.Probe {
		case "adsync":
			if ps := got.Probes["adsync"]; ps.Status != facts.ProbeFailed || ps.Reason != "Access is denied." {
				t.Errorf("adsync probe %+v", ps)
			}
		case "hardware":
			if ps := got.Probes["hardware"]; ps.Status != facts.ProbeMissing {
				t.Errorf("hardware probe %+v", ps)
			}
		default:
			if g, w := got.Get(def.Key).Display(), want.Facts[def.Key].Display(); g != w {
				t.Errorf("%s = %s, want %s", def.Key, g, w)
			}
		}
	}
	if st := s.Stats().Hosts[host.Name]; st.Ops.Send < 2 || st.ShellsOpen != 0 {
		t.Errorf("stats %+v: want several Sends and no shell left", st)
	}
}

// TestProbeBundleFromStdinDash: `powershell.exe -` reads its script from
// stdin too.
func TestProbeBundleFromStdinDash(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01"})
	r := client(t, s, "aadc01", false).run("powershell.exe -NoProfile -", []byte(probes.Bundle()))
	got, _ := probes.Parse(r.stdout, probes.BundleID())
	if name, _ := got.Get("host.name").Str(); name != "aadc01" || r.code != 0 {
		t.Fatalf("host.name %q, exit %d, stderr %q", name, r.code, r.stderr)
	}
}

// TestOperationTimeout: with no output within OperationTimeout (capped by
// MaxTimeoutms) Receive answers fault 2150858793, and a later Receive gets
// the output.
func TestOperationTimeout(t *testing.T) {
	s := startHosts(t,
		Host{Name: "slowps", PSRuntime: 1200 * time.Millisecond, MaxTimeoutMS: 500},
		Host{Name: "waiting"},
	)
	t.Run("capped by MaxTimeoutms", func(t *testing.T) {
		c := client(t, s, "slowps", false)
		shell := c.createShell()
		_, id := c.startCommand(shell, probes.CommandLine(), false)
		c.sendStdin(shell, id, []byte(probes.Bundle()), true)
		start := time.Now()
		status, resp := c.receiveOnce(shell, id) // asks for PT20S, gets 500 ms
		if status != 500 || !strings.Contains(resp, `Code="2150858793"`) || !strings.Contains(resp, "<s:Value>w:TimedOut</s:Value>") {
			t.Fatalf("first Receive: %d %s", status, resp)
		}
		if d := time.Since(start); d < 400*time.Millisecond || d > 5*time.Second {
			t.Errorf("the timeout took %v, want about 500ms", d)
		}
		r := c.receiveAll(shell, id)
		if r.code != 0 || len(r.stdout) == 0 || r.receives < 2 {
			t.Errorf("then %d receives, exit %d, %d bytes", r.receives, r.code, len(r.stdout))
		}
	})
	t.Run("stdin never ends", func(t *testing.T) {
		c := client(t, s, "waiting", false)
		c.opTimeout = "PT0.3S"
		shell := c.createShell()
		_, id := c.startCommand(shell, probes.CommandLine(), false)
		c.sendStdin(shell, id, []byte("# no end"), false)
		for range 2 {
			if status, resp := c.receiveOnce(shell, id); status != 500 || !strings.Contains(resp, `Code="2150858793"`) {
				t.Fatalf("Receive: %d %s", status, resp)
			}
		}
	})
}

// TestMaxShellsPerUser: the quota is per user; a deleted shell frees a
// slot.
func TestMaxShellsPerUser(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01", MaxShellsPerUser: 2, Users: []User{
		{Name: testUser, Password: testPassword}, {Name: `CONTOSO\other`, Password: testPassword},
	}})
	c := client(t, s, "aadc01", false)
	first := c.createShell()
	c.createShell()
	status, resp := c.call(actionCreate, "", "", `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`)
	if status != 500 || !strings.Contains(resp, `Code="2150859173"`) || !strings.Contains(resp, "maximum number of 2 concurrent shells") || !strings.Contains(resp, "w:QuotaLimit") {
		t.Fatalf("third shell: %d %s", status, resp)
	}
	other := client(t, s, "aadc01", false)
	other.user = `CONTOSO\other`
	other.createShell() // another user's quota
	c.deleteShell(first)
	c.createShell()
	if n := s.Stats().Hosts["aadc01"].ShellsOpen; n != 3 {
		t.Errorf("%d shells open, want 3", n)
	}
}

// TestEnvelopeLimits: a request over MaxEnvelopeSizekb is refused with 413;
// output larger than the client's MaxEnvelopeSize comes in several
// ReceiveResponses, each within it.
func TestEnvelopeLimits(t *testing.T) {
	bigList := make([]string, 400)
	for i := range bigList {
		bigList[i] = "Microsoft Entra Connect Sync|" + strings.Repeat("9", 80)
	}
	s := startHosts(t, Host{Name: "old", MaxEnvelopeKB: 150, Facts: map[string]facts.Fact{
		"aadc.uninstall_entries": {Status: facts.StatusOK, Value: bigList},
	}})
	t.Run("request too large", func(t *testing.T) {
		c := client(t, s, "old", false)
		shell := c.createShell()
		_, id := c.startCommand(shell, probes.CommandLine(), false)
		if status, _ := c.sendStdin(shell, id, make([]byte, 110<<10), false); status != 200 {
			t.Fatalf("a 147 KB envelope: %d", status)
		}
		msg, _ := c.soapRequest(actionSend, resourceCmd, shell, "", `<rsp:Send><rsp:Stream Name="stdin" CommandId="`+id+`">`+base64.StdEncoding.EncodeToString(make([]byte, 120<<10))+`</rsp:Stream></rsp:Send>`)
		if status, body, err := c.post(msg); err != nil || status != 413 || body != "" {
			t.Fatalf("a 160 KB envelope: %d %q %v", status, body, err)
		}
	})
	t.Run("response split", func(t *testing.T) {
		c := client(t, s, "old", false)
		c.envelope = 8192
		r := c.run(probes.CommandLine(), []byte(probes.Bundle()))
		got, _ := probes.Parse(r.stdout, probes.BundleID())
		if l, _ := got.Get("aadc.uninstall_entries").List(); len(l) != len(bigList) {
			t.Errorf("%d entries came back, want %d", len(l), len(bigList))
		}
		if r.receives < len(r.stdout)/8192 || c.largest > 8192 {
			t.Errorf("%d bytes in %d receives, largest response %d: want responses within 8192", len(r.stdout), r.receives, c.largest)
		}
	})
}

// TestUnknownShellsAndCommands: ids that do not exist, or no longer exist,
// or belong to another user, answer fault 2150858843.
func TestUnknownShellsAndCommands(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01", Users: []User{{Name: testUser, Password: testPassword}, {Name: "Administrator", Password: testPassword}}})
	c := client(t, s, "aadc01", false)
	shell := c.createShell()
	_, id := c.startCommand(shell, "hostname", false)
	expectFault := func(what string, status int, resp, text string) {
		t.Helper()
		if status != 500 || !strings.Contains(resp, `Code="2150858843"`) || !strings.Contains(resp, text) || !strings.Contains(resp, "w:InvalidSelectors") {
			t.Errorf("%s: %d %s", what, status, resp)
		}
	}
	status, resp := c.receiveOnce(shell, "87E77BEB-6761-4C48-9D70-A00266B8459A")
	expectFault("unknown command", status, resp, "command identifier that does not exist")
	_, resp = c.call(actionCommand, "1B1B1B1B-0000-0000-0000-000000000000", "", `<rsp:CommandLine><rsp:Command>hostname</rsp:Command></rsp:CommandLine>`)
	expectFault("unknown shell", 500, resp, "ShellId 1B1B1B1B-0000-0000-0000-000000000000 failed because the shell was not found")
	admin := client(t, s, "aadc01", false)
	admin.user = "Administrator"
	status, resp = admin.receiveOnce(shell, id)
	expectFault("another user's shell", status, resp, "the shell was not found")
	c.receiveAll(shell, id)
	c.signal(shell, id)
	status, resp = c.receiveOnce(shell, id)
	expectFault("terminated command", status, resp, "command identifier")
	c.deleteShell(shell)
	status, resp = c.call(actionDelete, shell, "", "")
	expectFault("deleted shell", status, resp, "the shell was not found")
}

// TestRelatesToOnEveryResponse: every kind of response, faults included,
// relates to its request (pywinrm checks it on Signal and Delete).
func TestRelatesToOnEveryResponse(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01", Faults: []Fault{{Op: OpSignal, Code: codeAccessDenied, Times: 1}}})
	c := client(t, s, "aadc01", false)
	c.opTimeout = "PT0.1S"
	shell := c.createShell()                                                                                        // CreateResponse
	_, id := c.startCommand(shell, probes.CommandLine(), false)                                                     // CommandResponse
	c.receiveOnce(shell, id)                                                                                        // OperationTimeout fault
	c.sendStdin(shell, id, []byte(probes.Bundle()), true)                                                           // SendResponse
	c.receiveAll(shell, id)                                                                                         // ReceiveResponse
	c.call(actionSignal, shell, "", `<rsp:Signal CommandId="`+id+`"><rsp:Code>x/terminate</rsp:Code></rsp:Signal>`) // injected fault
	c.signal(shell, id)                                                                                             // SignalResponse
	c.deleteShell(shell)                                                                                            // DeleteResponse
	c.call(actionDelete, shell, "", "")                                                                             // unknown shell fault
	for _, tt := range []struct{ action, resource string }{
		{actionGet, resourceConfig}, // GetResponse
		{"http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", resourceCmd},   // unsupported action
		{actionCreate, "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"}, // PSRP is not simulated
	} {
		msg, mid := c.soapRequest(tt.action, tt.resource, "", "", "")
		status, resp, err := c.post(msg)
		if err != nil || relatesTo(resp) != mid {
			t.Errorf("%s %s: %d %v RelatesTo %q, want %q", tt.action, tt.resource, status, err, relatesTo(resp), mid)
		}
	}
	if f := s.Stats().Hosts["aadc01"].Faults; f != 5 {
		t.Errorf("%d faults counted, want 5", f)
	}
}

// TestConfigGet: the winrm/config Get (how pypsrp reads MaxEnvelopeSizekb)
// reports the host's settings.
func TestConfigGet(t *testing.T) {
	s := startHosts(t, Host{Name: "aadc01", MaxEnvelopeKB: 150, MaxShellsPerUser: 7})
	c := client(t, s, "aadc01", false)
	msg, _ := c.soapRequest(actionGet, resourceConfig, "", "", "")
	status, resp, err := c.post(msg)
	if err != nil || status != 200 {
		t.Fatal(status, err)
	}
	for _, want := range []string{"<cfg:MaxEnvelopeSizekb>150<", "<cfg:MaxTimeoutms>60000<", "<cfg:AllowUnencrypted>false<", "<cfg:Basic>false<", "<cfg:MaxShellsPerUser>7<"} {
		if !strings.Contains(resp, want) {
			t.Errorf("no %s in %s", want, resp)
		}
	}
	comparePaths(t, 0, xmlPaths(t, loadCapture(t, "wsman_envelope_size_150.yml").Messages[0].Response), xmlPaths(t, resp))
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
