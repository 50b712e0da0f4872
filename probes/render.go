package probes

import (
	"fmt"
	"slices"
	"strconv"
	"unicode/utf16"

	"aadcready/facts"
)

// RenderOptions bend Render's output the way real hosts do.
type RenderOptions struct {
	Fail     map[string]string // probe -> exception message: BEGIN, no facts, FAIL
	Omit     []string          // probes left out entirely
	Truncate int               // if > 0, cut the output after this many bytes
	// Raw prints these facts with the given protocol text as their value,
	// not escaped: a simulator can plant what PowerShell prints but a Go
	// string cannot hold (a lone UTF-16 surrogate, \uD800).
	Raw map[string]string
}

// Render prints what the bundle would print on a host with these facts: the
// inverse of Parse, for the WinRM simulator. Probes run in bundle order and
// each reports its facts in registry order; facts missing from set are not
// printed. A value is printed by its Go type, not by its key's kind, so a
// test can make a host return a wrong-kind value (a string for os.build).
func Render(set *facts.Set, bundleID string, opt RenderOptions) []byte {
	var got map[string]facts.Fact
	if set != nil {
		got = set.Facts
	}
	b := make([]byte, 0, 4096)
	b = appendRecord(b, "BUNDLE 1 "+bundleID)
	for _, probe := range names {
		if slices.Contains(opt.Omit, probe) {
			continue
		}
		b = appendRecord(b, "BEGIN "+probe)
		if msg, ok := opt.Fail[probe]; ok {
			b = appendRecord(b, "FAIL "+probe+" "+escape(msg))
			continue
		}
		for _, key := range probeKeys[probe] {
			if raw, ok := opt.Raw[key]; ok {
				b = appendRecord(b, "F "+key+" "+raw)
			} else if f, ok := got[key]; ok {
				b = appendFact(b, key, f)
			}
		}
		b = appendRecord(b, "END "+probe)
	}
	b = appendRecord(b, "DONE")
	if opt.Truncate > 0 && opt.Truncate < len(b) {
		b = b[:opt.Truncate]
	}
	return b
}

func appendFact(b []byte, key string, f facts.Fact) []byte {
	switch f.Status {
	case facts.StatusAbsent:
		return appendRecord(b, "A "+key)
	case facts.StatusError:
		return appendRecord(b, "E "+key+" "+escape(f.Reason))
	}
	var text string
	switch v := f.Value.(type) {
	case []string:
		if len(v) == 0 {
			return appendRecord(b, "L0 "+key)
		}
		for _, item := range v {
			b = appendRecord(b, "L "+key+" "+escape(item))
		}
		return b
	case string:
		text = v
	case int64:
		text = strconv.FormatInt(v, 10)
	case bool:
		text = strconv.FormatBool(v)
	default:
		text = fmt.Sprint(v)
	}
	return appendRecord(b, "F "+key+" "+escape(text))
}

// appendRecord ends lines with CRLF, as Write-AadcOutput does.
func appendRecord(b []byte, rec string) []byte {
	b = append(b, recordPrefix...)
	b = append(b, rec...)
	return append(b, '\r', '\n')
}

// escape is ConvertTo-AadcEscaped of the prelude, over the UTF-16 code units
// PowerShell would see.
func escape(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E || s[i] == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	for _, r := range s {
		switch {
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r >= 0x20 && r <= 0x7E:
			b = append(b, byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			b = fmt.Appendf(b, `\u%04X\u%04X`, hi, lo)
		default:
			b = fmt.Appendf(b, `\u%04X`, r)
		}
	}
	return string(b)
}
