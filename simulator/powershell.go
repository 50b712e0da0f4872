package simulator

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf16"

	"aadcready/facts"
	"aadcready/probes"
)

// powershell.exe's parameters that take a value, by the names and aliases
// it accepts; a parameter may be abbreviated to any unambiguous prefix, and
// the first match in this order wins (as -e means -EncodedCommand).
var psValueParams = []string{
	"encodedcommand", "executionpolicy", "file", "inputformat", "outputformat",
	"windowstyle", "version", "configurationname", "psconsolefile", "encodedarguments",
}

var psAliases = map[string]string{"ec": "encodedcommand", "enc": "encodedcommand", "ep": "executionpolicy", "ex": "executionpolicy", "if": "inputformat", "of": "outputformat", "ea": "encodedarguments"}

// powershell starts powershell.exe with a command line. It runs one kind of
// script for real, the probe bundle (from stdin behind the bootstrap, from
// stdin with "-", or inline); any other script fails as a script using an
// unknown command would.
func (h *hostState) powershell(args string) process {
	var encoded, command, file string
	fromStdin, explicit := false, false
	toks := splitArgs(args)
loop:
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t == "-" {
			fromStdin = true
			break
		}
		if !strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "/") {
			command, explicit = strings.Join(toks[i:], " "), true
			break
		}
		name := psParam(strings.ToLower(strings.TrimLeft(t, "-/")))
		switch {
		case name == "command":
			command, explicit = strings.Join(toks[i+1:], " "), true
			fromStdin = command == "-"
			break loop
		case slices.Contains(psValueParams, name) && i+1 < len(toks):
			i++
			switch name {
			case "encodedcommand":
				encoded = toks[i]
			case "file":
				file = toks[i]
			}
		}
	}
	ps := process{runtime: h.cfg.PSRuntime}
	switch {
	case encoded != "":
		script, err := decodeEncodedCommand(encoded)
		if err != nil {
			return exited("", "Cannot process the command because the value specified with -EncodedCommand is not properly encoded. The value must be Base64 encoded.\r\n", 1)
		}
		if readsInput(script) {
			// A bootstrap: it runs what arrives on stdin, if this
			// host's language mode lets the bootstrap itself run.
			ps.readsStdin = true
			ps.run = func(stdin []byte) output {
				if out, refused := h.constrained(script, nil); refused {
					return out
				}
				return h.runScript(string(stdin))
			}
		} else {
			ps.run = func([]byte) output { return h.runScript(script) }
		}
	case file != "":
		return exited("", fmt.Sprintf("The argument '%s' to the -File parameter does not exist. Provide the path to an existing '.ps1' file as an argument to the -File parameter.\r\n", file), -196608)
	case fromStdin || !explicit:
		ps.readsStdin = true
		ps.run = func(stdin []byte) output { return h.runScript(string(stdin)) }
	default:
		ps.run = func([]byte) output { return h.runScript(command) }
	}
	return ps
}

// psParam resolves an alias or an abbreviation to the parameter's name.
func psParam(name string) string {
	if full, ok := psAliases[name]; ok {
		return full
	}
	if name != "" && strings.HasPrefix("command", name) {
		return "command"
	}
	for _, p := range psValueParams {
		if name != "" && strings.HasPrefix(p, name) {
			return p
		}
	}
	return name
}

// decodeEncodedCommand reverses -EncodedCommand: base64 of UTF-16LE.
func decodeEncodedCommand(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%2 != 0 {
		return "", fmt.Errorf("not base64 of UTF-16LE")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// readsInput says whether a script reads stdin through $input, as the
// bootstrap does (this one or an older one).
func readsInput(script string) bool {
	return strings.Contains(strings.ToLower(script), "$input")
}

// runScript is what PowerShell prints for a script: the probes' output for
// the probe bundle, an error for anything else.
func (h *hostState) runScript(script string) output {
	id, names, err := probes.ProbesInBundle(script)
	if err != nil {
		if out, ok := h.nativeProgram(script); ok {
			return out
		}
		return unknownScript(script)
	}
	if h.cfg.Behavior == BehaviorGarbage {
		return output{stdout: junk(h.cfg.Name)}
	}
	fail := h.cfg.FailProbes
	if h.cfg.LanguageMode == "ConstrainedLanguage" {
		probeFails := map[string]string{}
		if out, refused := h.constrained(script, probeFails); refused {
			return out
		}
		if len(probeFails) > 0 {
			fail = maps.Clone(fail)
			if fail == nil {
				fail = map[string]string{}
			}
			maps.Copy(fail, probeFails)
		}
	}
	omit := slices.Clone(h.cfg.OmitProbes)
	for _, p := range facts.Probes() {
		if !slices.Contains(names, p) {
			omit = append(omit, p) // a probe the bundle did not bring cannot run
		}
	}
	opt := probes.RenderOptions{Fail: fail, Omit: omit, Truncate: h.cfg.TruncateOutput}
	set := h.factSet()
	var out output
	if h.cfg.Behavior == BehaviorHostile {
		opt.Raw, out.stderr = plantHostile(set)
	}
	out.stdout = probes.Render(set, id, opt)
	if h.cfg.LanguageMode == "ConstrainedLanguage" {
		out.stdout = viaWriteOutput(out.stdout)
	}
	if h.cfg.NoiseOutput > 0 {
		out.stdout = append(noise(h.cfg.NoiseOutput), out.stdout...)
	}
	if p := h.cfg.HangAfterProbe; p != "" {
		end := []byte("##AADC END " + p + "\r\n")
		if i := bytes.Index(out.stdout, end); i >= 0 {
			out.stdout = out.stdout[:i+len(end)]
		}
		out.hang = true
	}
	return out
}

// maxNoiseOutput bounds noise_output: enough to test any client's output
// limit, not enough to exhaust the simulator's memory.
const maxNoiseOutput = 64 << 20

// noise is at least n bytes of whole lines that are not records, as a
// module that dumps a huge warning prints them.
func noise(n int) []byte {
	const line = "WARNING: module AadcNoisy: this line only fills the output; a real module may print megabytes of it\r\n"
	return bytes.Repeat([]byte(line), (n+len(line)-1)/len(line))
}

// plantHostile makes a host's report hostile, as a compromised server's
// could be: a spreadsheet formula (os.caption, a CSV column), markup,
// terminal escapes in a value, all three and a bidi override and a C1
// control in an error reason (of a
// blocker's fact, so it becomes the verdict's reason), a lone UTF-16 surrogate (what PowerShell prints for a
// broken registry string; the parser makes it U+FFFD) and stderr bytes that
// are not UTF-8. It returns the raw records and stderr to plant.
func plantHostile(set *facts.Set) (raw map[string]string, stderr []byte) {
	ok := func(v string) facts.Fact { return facts.Fact{Status: facts.StatusOK, Value: v} }
	set.Facts["os.caption"] = ok(`=HYPERLINK("http://attacker.example/","Microsoft Windows Server 2019 Datacenter")`)
	set.Facts["adsync.service_account"] = ok(`<script>alert(document.domain)</script>`)
	set.Facts["hw.system_drive"] = ok("\x1b[2J\x1b[31mC:")
	set.Facts["dotnet.release"] = facts.Fact{Status: facts.StatusError, Reason: "\x1b[2J\x1b]0;pwned\x07=cmd|' /C calc'!A0 <script>alert(document.domain)</script> \u202edenied si sseccA\u202c \u009b31m"}
	raw = map[string]string{"adsync.install_location": `C:\\Program Files\\Microsoft Azure AD Sync\\\uD800`}
	return raw, []byte("\xff\xfe\x1b[2JWARNING: \xc3\x28 is not UTF-8\r\n")
}

// nativeProgram is PowerShell running a script that is nothing but an
// external program the host has, as Ansible's raw module sends a command
// (powershell.exe -EncodedCommand of "hostname"): the program's output and
// exit code. Only hostname is known; anything else is not a program here.
func (h *hostState) nativeProgram(script string) (output, bool) {
	line := strings.TrimSpace(script)
	exe, rest := firstToken(line)
	if rest != "" || strings.ContainsAny(line, "\r\n;|&") || program(exe) != "hostname" {
		return output{}, false
	}
	return output{stdout: []byte(h.cfg.Name + "\r\n")}, true
}

// unknownScript is PowerShell failing on the first word of a script it
// cannot run, the error written to stderr as CLIXML (what a redirected
// powershell.exe writes) with exit code 1.
func unknownScript(script string) output {
	first, _, _ := strings.Cut(strings.TrimSpace(script), "\n")
	first = strings.TrimRight(first, "\r")
	word, _ := firstToken(first)
	word = strings.TrimRight(word, ";(")
	if word == "" {
		return output{}
	}
	return output{stderr: errorRecord(
		word+" : The term '"+word+"' is not recognized as the name of a cmdlet, function, script file, or operable program. "+
			"Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
		1, 1, first, len(word), "ObjectNotFound: ("+word+":String) [], CommandNotFoundException", "CommandNotFoundException"), code: 1}
}

// errorRecord is an error record as a redirected powershell.exe writes it
// to stderr: CLIXML, with the position (line and column, 1-based), the
// source line underlined for width characters, category and error id.
func errorRecord(msg string, line, col int, source string, width int, category, id string) []byte {
	lines := []string{
		msg,
		fmt.Sprintf("At line:%d char:%d", line, col),
		"+ " + truncate(source, 80),
		"+ " + strings.Repeat(" ", min(col-1, 80)) + strings.Repeat("~", max(1, min(width, 80))),
		"    + CategoryInfo          : " + category,
		"    + FullyQualifiedErrorId : " + id,
		" ",
	}
	var b strings.Builder
	b.WriteString("#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">")
	for _, l := range lines {
		b.WriteString(`<S S="Error">`)
		b.WriteString(clixmlEscape(l))
		b.WriteString(`_x000D__x000A_</S>`)
	}
	b.WriteString("</Objs>")
	return []byte(b.String())
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// clixmlEscape escapes XML text and, as CLIXML does, control characters as
// _xHHHH_.
func clixmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r < 0x20:
			fmt.Fprintf(&b, "_x%04X_", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// junk is a garbage host's probe output: random text and bytes, protocol
// lookalikes with a wrong bundle id and broken records, the same for the
// same host name every time.
func junk(host string) []byte {
	h := fnv.New64a()
	h.Write([]byte(host))
	r := rand.New(rand.NewPCG(h.Sum64(), 0x5eed))
	var b []byte
	b = fmt.Appendf(b, "##AADC BUNDLE 1 %016x\r\n", r.Uint64())
	for range 40 + r.IntN(40) {
		switch r.IntN(4) {
		case 0:
			b = fmt.Appendf(b, "##AADC F %s \\q%x\r\n", facts.Registry[r.IntN(len(facts.Registry))].Key, r.Uint32())
		case 1:
			b = fmt.Appendf(b, "##AADC %c%c\r\n", 'A'+r.IntN(26), 'A'+r.IntN(26))
		case 2:
			for range 20 + r.IntN(60) {
				b = append(b, byte(0x20+r.IntN(0x5f)))
			}
			b = append(b, '\r', '\n')
		default:
			for range 8 + r.IntN(24) {
				b = append(b, byte(r.IntN(256)))
			}
			b = append(b, '\n')
		}
	}
	return b
}
