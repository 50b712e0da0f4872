package wsman

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
)

const clixmlMarker = "#< CLIXML"

// DecodeCLIXML turns PowerShell's serialized stderr ("#< CLIXML" followed by
// an <Objs> document) into readable text: the string records (<S>, e.g.
// S="Error", S="Warning") in order, with _xHHHH_ escapes decoded; progress
// records are dropped. Text outside CLIXML blocks is kept as is, and a
// block that does not parse is returned raw rather than lost.
func DecodeCLIXML(stderr []byte) string {
	if !bytes.Contains(stderr, []byte(clixmlMarker)) {
		return string(stderr)
	}
	var b strings.Builder
	for i, seg := range bytes.Split(stderr, []byte(clixmlMarker)) {
		if i == 0 {
			b.Write(seg) // text before the first block
			continue
		}
		decodeCLIXMLBlock(&b, bytes.TrimLeft(seg, "\r\n"))
	}
	return b.String()
}

func decodeCLIXMLBlock(b *strings.Builder, seg []byte) {
	var out strings.Builder
	d := xml.NewDecoder(bytes.NewReader(seg))
	depth, inS := 0, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Write(seg) // not CLIXML after all: keep the raw text
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			inS = depth == 2 && t.Name.Local == "S"
		case xml.EndElement:
			depth--
			inS = false
			if depth == 0 { // end of <Objs>: anything after is plain text
				b.WriteString(out.String())
				b.Write(bytes.TrimLeft(seg[d.InputOffset():], "\r\n"))
				return
			}
		case xml.CharData:
			if inS {
				out.WriteString(unescapePSString(string(t)))
			}
		}
	}
	b.WriteString(out.String())
}

// unescapePSString decodes PowerShell's XML string escapes: _xHHHH_ is one
// UTF-16 code unit (surrogate pairs come as two), _x005F_ an underscore.
func unescapePSString(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	var units []uint16
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); {
		if u, ok := psEscapeAt(s, i); ok {
			units = append(units, u)
			i += 7
			continue
		}
		flush()
		b.WriteByte(s[i])
		i++
	}
	flush()
	return b.String()
}

func psEscapeAt(s string, i int) (uint16, bool) {
	if i+7 > len(s) || s[i] != '_' || s[i+1] != 'x' || s[i+6] != '_' {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
	return uint16(v), err == nil
}
