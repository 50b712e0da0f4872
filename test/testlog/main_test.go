package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	cases := []struct {
		name, in           string
		want               tally
		wantOut, wantSkips []string
		notOut             []string
	}{
		{
			name: "pass and visible skip",
			in: `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:12: pywinrm is not installed (apt-get install -y python3-winrm)\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestA","Elapsed":0}
{"Action":"output","Package":"p","Test":"TestB","Output":"quiet on success\n"}
{"Action":"pass","Package":"p","Test":"TestB","Elapsed":0.1}
{"Action":"pass","Package":"p","Elapsed":1.5}`,
			wantOut:   []string{"ok   p 1.5s"},
			notOut:    []string{"quiet on success", "pywinrm"},
			wantSkips: []string{"p\tTestA\tpywinrm is not installed (apt-get install -y python3-winrm)\n"},
			want:      tally{passed: 1, skipped: 1},
		},
		{
			name: "failed subtest prints its output",
			in: `{"Action":"output","Package":"p","Test":"TestC/one","Output":"    c_test.go:3: want 1, got 2\n"}
{"Action":"fail","Package":"p","Test":"TestC/one","Elapsed":0}
{"Action":"fail","Package":"p","Test":"TestC","Elapsed":0}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"fail","Package":"p","Elapsed":0.2}`,
			want:    tally{failed: 2, broken: true},
			wantOut: []string{"want 1, got 2", "FAIL p 200ms"},
		},
		{
			name: "build failure",
			in: `{"ImportPath":"q [q.test]","Action":"build-output","Output":"q/x.go:1: syntax error\n"}
{"ImportPath":"q [q.test]","Action":"build-fail"}
{"Action":"fail","Package":"q","Elapsed":0}`,
			want:    tally{broken: true},
			wantOut: []string{"BUILD FAILED q [q.test]", "syntax error"},
		},
		{
			name:    "non-JSON lines pass through",
			in:      "go: no such package\n",
			wantOut: []string{"go: no such package"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, skips bytes.Buffer
			n, err := summarize(strings.NewReader(c.in), &out, &skips)
			if err != nil {
				t.Fatal(err)
			}
			if n != c.want {
				t.Errorf("tally = %+v, want %+v", n, c.want)
			}
			for _, w := range c.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range c.notOut {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
			if got := skips.String(); got != strings.Join(c.wantSkips, "") {
				t.Errorf("skips = %q, want %q", got, c.wantSkips)
			}
		})
	}
}
