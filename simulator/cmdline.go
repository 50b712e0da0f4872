package simulator

import (
	"strconv"
	"strings"
	"unicode/utf16"
)

// Command-line limits of Windows: CreateProcess takes 32,767 characters,
// cmd.exe 8,191 (field notes §4).
const (
	maxProcessLine = 32767
	maxCmdLine     = 8191
	cmdPrefix      = `C:\Windows\system32\cmd.exe /c `
)

// interpret checks the command line as CreateProcess and cmd.exe would and
// finds what it runs.
func (h *hostState) interpret(line string, skipCmdShell bool) (process, *wsFault) {
	full := line
	if !skipCmdShell {
		full = cmdPrefix + line
	}
	if len(utf16.Encode([]rune(full))) > maxProcessLine {
		f := faultFor(codeCommandTooLong)
		return process{}, &f
	}
	if skipCmdShell {
		return h.execute(line, false)
	}
	if len(utf16.Encode([]rune(line))) > maxCmdLine {
		return exited("", "The command line is too long.\r\n", 1), nil
	}
	return h.execute(line, true)
}

// execute runs a command line, through cmd.exe or straight as a program.
// It knows hostname, powershell, cmd /c and, inside cmd, echo and exit.
func (h *hostState) execute(line string, viaCmd bool) (process, *wsFault) {
	if viaCmd {
		if segs, ands := splitCmdSequence(line); len(segs) > 1 {
			return h.sequence(segs, ands)
		}
	}
	// Trailing blanks stay: cmd's echo prints them.
	exe, rest := firstToken(line)
	switch program(exe) {
	case "":
		return exited("", "", 0), nil
	case "hostname":
		return exited(h.cfg.Name+"\r\n", "", 0), nil
	case "powershell":
		return h.powershell(rest), nil
	case "cmd":
		for flag, tail := firstToken(rest); flag != ""; flag, tail = firstToken(tail) {
			if strings.EqualFold(flag, "/c") || strings.EqualFold(flag, "/k") {
				return h.execute(unquote(tail), true)
			}
		}
		return exited("", "", 0), nil // an interactive cmd.exe with no input
	case "echo":
		if viaCmd {
			return echo(rest), nil
		}
	case "exit":
		if viaCmd {
			n, tail := firstToken(rest)
			if strings.EqualFold(n, "/b") {
				n, _ = firstToken(tail)
			}
			code, _ := strconv.Atoi(n)
			return exited("", "", code), nil
		}
	}
	if !viaCmd {
		f := faultFor(codeFileNotFound)
		return process{}, &f
	}
	return exited("", "'"+exe+"' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", 9009), nil
}

// echo is cmd's echo, with the redirections ">&2" (to stderr) and ">nul".
// cmd removes the redirection and echoes the rest, spaces included.
func echo(text string) process {
	toStderr, discard := false, false
	for _, r := range []struct {
		op   string
		flag *bool
	}{{"1>&2", &toStderr}, {">&2", &toStderr}, {">nul", &discard}} {
		if i := strings.Index(strings.ToLower(text), r.op); i >= 0 {
			text, *r.flag = text[:i]+text[i+len(r.op):], true
			break
		}
	}
	switch {
	case discard:
		return exited("", "", 0)
	case strings.TrimSpace(text) == "":
		text = "ECHO is on."
	}
	if toStderr {
		return exited("", text+"\r\n", 0)
	}
	return exited(text+"\r\n", "", 0)
}

// splitCmdSequence splits "a && b & c" at the operators outside quotes;
// ands[i] says whether segment i+1 runs only if segment i succeeded.
func splitCmdSequence(line string) (segs []string, ands []bool) {
	start, quoted := 0, false
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '"':
			quoted = !quoted
		case line[i] == '&' && !quoted && (i == 0 || line[i-1] != '>' && line[i-1] != '<'):
			segs = append(segs, line[start:i])
			and := i+1 < len(line) && line[i+1] == '&'
			if and {
				i++
			}
			ands = append(ands, and)
			start = i + 1
		}
	}
	return append(segs, line[start:]), ands
}

// sequence runs cmd's command chain: output in order, && stopping at the
// first failure, the exit code of the last command that ran.
func (h *hostState) sequence(segs []string, ands []bool) (process, *wsFault) {
	procs := make([]process, len(segs))
	for i, seg := range segs {
		p, f := h.execute(seg, true)
		if f != nil {
			return process{}, f
		}
		procs[i] = p
	}
	return process{run: func([]byte) output {
		var out output
		for i, p := range procs {
			if i > 0 && ands[i-1] && out.code != 0 {
				break
			}
			o := p.run(nil)
			out.stdout = append(out.stdout, o.stdout...)
			out.stderr = append(out.stderr, o.stderr...)
			out.code = o.code
		}
		return out
	}}, nil
}

// program reduces C:\Windows\System32\HOSTNAME.EXE to hostname.
func program(exe string) string {
	exe = strings.ToLower(exe)
	if i := strings.LastIndexAny(exe, `\/`); i >= 0 {
		exe = exe[i+1:]
	}
	for _, ext := range []string{".exe", ".com"} {
		exe = strings.TrimSuffix(exe, ext)
	}
	return exe
}

// firstToken splits off the first word (a double-quoted word keeps its
// spaces and loses its quotes); rest has no leading blanks.
func firstToken(s string) (tok, rest string) {
	s = strings.TrimLeft(s, " \t")
	if strings.HasPrefix(s, `"`) {
		if end := strings.IndexByte(s[1:], '"'); end >= 0 {
			return s[1 : end+1], strings.TrimLeft(s[end+2:], " \t")
		}
		return s[1:], ""
	}
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], strings.TrimLeft(s[i:], " \t")
	}
	return s, ""
}

// splitArgs splits a command line into words as firstToken does.
func splitArgs(s string) []string {
	var out []string
	for tok, rest := firstToken(s); tok != "" || rest != ""; tok, rest = firstToken(rest) {
		out = append(out, tok)
	}
	return out
}

// unquote removes the quotes cmd /c strips from "command".
func unquote(s string) string {
	if t := strings.TrimSpace(s); len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' && strings.Count(t, `"`) == 2 {
		return t[1 : len(t)-1]
	}
	return s
}
