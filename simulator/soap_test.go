package simulator

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseXSDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT20S": 20 * time.Second, "PT60.000S": time.Minute, "PT0.5S": 500 * time.Millisecond,
		"PT1M30S": 90 * time.Second, "P0DT0H0M5S": 5 * time.Second, "PT2H": 2 * time.Hour,
	} {
		if got, err := parseXSDuration(in); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "P", "PT", "20", "PT20", "-PT5S"} {
		if _, err := parseXSDuration(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestLiftStreams(t *testing.T) {
	pad := strings.Repeat(" ", liftAbove)
	for name, tt := range map[string]struct {
		body string
		want []string // the Send streams' text after parsing
	}{
		"two streams":      {`<rsp:Stream Name="stdin" CommandId="a">aGk=</rsp:Stream><x:Stream CommandId="b" End="true">dGhlcmU=</x:Stream>`, []string{"aGk=", "dGhlcmU="}},
		"an empty stream":  {`<rsp:Stream Name="stdin" CommandId="a" End="true"/><rsp:Stream Name="stdin">aGk=</rsp:Stream>`, []string{"", "aGk="}},
		"an entity stays":  {`<rsp:Stream Name="stdin">aGk=</rsp:Stream><rsp:Stream Name="stdin">a&#43;b</rsp:Stream>`, []string{"aGk=", "a+b"}},
		"not a Stream tag": {`<rsp:Streams><rsp:Stream Name="stdin">aGk=</rsp:Stream></rsp:Streams>`, nil},
	} {
		t.Run(name, func(t *testing.T) {
			body := `<s:Envelope xmlns:s="` + nsSOAP + `" xmlns:rsp="` + nsShell + `" xmlns:x="` + nsShell + `"><s:Header>` + pad + `</s:Header><s:Body><rsp:Send>` + tt.body + `</rsp:Send></s:Body></s:Envelope>`
			rq, err := parseRequest([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range rq.Body.Send.Streams {
				got = append(got, s.Data)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("streams %q, want %q", got, tt.want)
			}
		})
	}
}
