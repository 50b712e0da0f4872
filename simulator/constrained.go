package simulator

import (
	"strings"

	"aadcready/probes"
)

// What ConstrainedLanguage PowerShell says when it refuses a construct,
// by the language-mode checker's rule (about_Language_Modes; the messages
// and error ids are PowerShell 5.1's).
var clmErrors = map[string]struct{ msg, category, id string }{
	"method": {"Cannot invoke method. Method invocation is supported only on core types in this language mode.",
		"InvalidOperation: (:) [], RuntimeException", "MethodInvocationNotSupportedInConstrainedLanguage"},
	"invoke-text": {"Cannot invoke method. Method invocation is supported only on core types in this language mode.",
		"InvalidOperation: (:) [], RuntimeException", "MethodInvocationNotSupportedInConstrainedLanguage"},
	"property-set": {"Cannot set property. Property setting is supported only on core types in this language mode.",
		"InvalidOperation: (:) [], RuntimeException", "PropertySetterNotSupportedInConstrainedLanguage"},
	"new-object": {"Cannot create type. Only core types are supported in this language mode.",
		"PermissionDenied: (:) [New-Object], PSNotSupportedException", "CannotCreateTypeConstrainedLanguage,Microsoft.PowerShell.Commands.NewObjectCommand"},
	"add-type": {"Cannot add type. Definition of new types is not supported in this language mode.",
		"PermissionDenied: (:) [Add-Type], PSNotSupportedException", "CannotDefineNewType,Microsoft.PowerShell.Commands.AddTypeCommand"},
	"type": {"Cannot convert to the type. Only core types are supported in this language mode.",
		"InvalidArgument: (:) [], RuntimeException", "ConversionSupportedOnlyToCoreTypes"},
}

// rulePrecedence orders the findings of one line: the call is what fails
// in [scriptblock]::Create(...), not the type literal before it.
var rulePrecedence = []string{"method", "property-set", "new-object", "add-type", "invoke-text", "type"}

// constrained runs the language-mode checker on a script this
// ConstrainedLanguage host is about to run. A refusal inside a probe's body
// is caught by the bundle's Invoke-AadcProbe, which reports FAIL for that
// probe: it is added to probeFails (probe -> message). Any other refusal
// stops the script there: refused is true and out is PowerShell's answer,
// the error record on stderr and exit code 1, with no output. A
// FullLanguage host runs everything.
func (h *hostState) constrained(script string, probeFails map[string]string) (out output, refused bool) {
	if h.cfg.LanguageMode != "ConstrainedLanguage" {
		return output{}, false
	}
	findings := probes.CheckConstrained(script)
	if len(findings) == 0 {
		return output{}, false
	}
	regions := probeRegions(script)
	// Per probe (and for the rest, key ""), the first refusal only: the
	// script or the probe ends there.
	first := map[string][]probes.Finding{}
	for _, f := range findings {
		p := probeAt(regions, f.Offset)
		if len(first[p]) > 0 && first[p][0].Line != f.Line {
			continue
		}
		first[p] = append(first[p], f)
	}
	if fs, ok := first[""]; ok {
		f := pick(fs)
		e := clmErrors[f.Rule]
		lines := strings.Split(script, "\n")
		src := strings.TrimRight(lines[f.Line-1], "\r")
		col := f.Offset - strings.LastIndexByte(script[:f.Offset], '\n')
		return output{stderr: errorRecord(e.msg, f.Line, col, src, 1, e.category, e.id), code: 1}, true
	}
	for p, fs := range first {
		if p != "" {
			probeFails[p] = clmErrors[pick(fs).Rule].msg
		}
	}
	return output{}, false
}

// viaWriteOutput is the bundle's output as ConstrainedLanguage prints it:
// Write-AadcOutput cannot use [Console] there and writes each chunk (the
// lines of one probe, then DONE) with Write-Output, and the host ends each
// with one more line end: a blank line after every chunk.
func viaWriteOutput(stdout []byte) []byte {
	const begin, done = "\r\n##AADC BEGIN ", "\r\n##AADC DONE"
	s := strings.Replace(string(stdout), begin, "\r\n"+begin, -1)
	first := strings.Index(s, "\r\n\r\n##AADC BEGIN ")
	if first >= 0 { // the first chunk holds the BUNDLE line and the first probe
		s = s[:first] + s[first+2:]
	}
	s = strings.Replace(s, done, "\r\n"+done, 1)
	if strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return []byte(s)
}

func pick(fs []probes.Finding) probes.Finding {
	for _, r := range rulePrecedence {
		for _, f := range fs {
			if f.Rule == r {
				return f
			}
		}
	}
	return fs[0]
}

type probeRegion struct {
	name       string
	start, end int
}

// probeRegions finds each probe's body in a bundle: from its
// "Invoke-AadcProbe 'name' {" line to the next probe, the last one to the
// bundle's DONE line.
func probeRegions(script string) []probeRegion {
	const prefix = "\nInvoke-AadcProbe '"
	var rs []probeRegion
	for i := 0; ; {
		j := strings.Index(script[i:], prefix)
		if j < 0 {
			break
		}
		start := i + j + 1
		name, _, _ := strings.Cut(script[start+len(prefix)-1:], "'")
		if len(rs) > 0 {
			rs[len(rs)-1].end = start
		}
		rs = append(rs, probeRegion{name: name, start: start, end: len(script)})
		i = start
	}
	if n := len(rs); n > 0 {
		if k := strings.Index(script[rs[n-1].start:], "\nAdd-AadcLine 'DONE'"); k >= 0 {
			rs[n-1].end = rs[n-1].start + k
		}
	}
	return rs
}

// probeAt names the probe whose body holds offset, "" outside every probe.
func probeAt(rs []probeRegion, offset int) string {
	for _, r := range rs {
		if offset >= r.start && offset < r.end {
			return r.name
		}
	}
	return ""
}
