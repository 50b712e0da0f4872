package report

import (
	"bytes"
	"testing"
)

func TestFileSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                        "plain",
		"two\nlines\tand a tab":        "two\nlines\tand a tab",
		"crlf\r\nline":                 "crlf\nline",
		"over\rwrite":                  "over\nwrite",
		"\x1b]0;pwned\x07title":        "\uFFFD]0;pwned\uFFFDtitle",
		"nul\x00 del\x7f c1\u009b31m":  "nul\uFFFD del\uFFFD c1\uFFFD31m",
		"\u202edesrever\u202c \u2066x": "\uFFFDdesrever\uFFFD \uFFFDx",
		"bad \xff utf8":                "bad \uFFFD utf8",
	} {
		if got := FileSafe(in); got != want {
			t.Errorf("FileSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// The HTML filter gives the same result however the text is cut into
// writes, runes split between two included.
func TestSafeWriterSplits(t *testing.T) {
	in := []byte("<td>\x1b[2J\u202eé€😀\xff</td>\n\u0085end")
	want := "<td>\uFFFD[2J\uFFFDé€😀\uFFFD</td>\n\uFFFDend"
	for size := 1; size <= len(in); size++ {
		var out bytes.Buffer
		w := newSafeWriter(&out)
		for i := 0; i < len(in); i += size {
			if _, err := w.Write(in[i:min(i+size, len(in))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("writes of %d bytes: %q, want %q", size, out.String(), want)
		}
	}
}
