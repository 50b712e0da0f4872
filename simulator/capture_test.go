package simulator

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The captures are real Windows answers (testdata/winrs-captures at the top
// of the repository, MIT licence; origin in its README).
const capturesDir = "../testdata/winrs-captures"

type capture struct {
	Messages []struct {
		Request   string `yaml:"request"`
		Response  string `yaml:"response"`
		Overrides []struct {
			Attributes map[string]string `yaml:"attributes"`
		} `yaml:"overrides"`
	} `yaml:"messages"`
}

func loadCapture(t *testing.T, name string) capture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(capturesDir, name))
	if err != nil {
		t.Fatalf("captures are needed beside the repository: %v", err)
	}
	var c capture
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// xmlPaths lists an XML document's element paths (namespace URI and local
// name, so prefixes do not matter) and attribute names: the response's
// shape, without its values.
func xmlPaths(t *testing.T, doc string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	var stack, out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, doc)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Space+" "+e.Name.Local)
			p := strings.Join(stack, "/")
			add(p)
			for _, a := range e.Attr {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					add(p + "@" + a.Name.Local)
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	slices.Sort(out)
	return out
}

// optionalPaths are elements a real response may have that the simulator
// leaves out: the activity id of newer Windows builds.
var optionalPaths = regexp.MustCompile(`ActivityId`)

var guidRe = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)

// TestCaptureReplay sends the requests real clients sent to Windows (the
// captures) to the simulator and holds each response to Windows' response:
// the same elements and attributes in the same namespaces, a:RelatesTo
// equal to the request's MessageID, and for cmd.exe commands the same
// output.
func TestCaptureReplay(t *testing.T) {
	s := startHosts(t, Host{Name: "replay"})
	// Output is compared where the simulator runs the same command (cmd's
	// echo and exit); elsewhere only the shape.
	sameOutput := map[string]bool{"winrs_standard.yml": true, "winrs_stderr_rc.yml": true}
	for _, file := range []string{"winrs_standard.yml", "winrs_stderr_rc.yml", "winrs_send.yml", "winrs_bad_cmd_id.yml", "winrs_noprofile.yml", "winrs_extra_opts.yml"} {
		t.Run(file, func(t *testing.T) {
			c := client(t, s, "replay", false)
			ids := map[string]string{} // captured id -> ours
			for i, m := range loadCapture(t, file).Messages {
				req := m.Request
				for _, o := range m.Overrides {
					if id, ok := o.Attributes["CommandId"]; ok {
						req = regexp.MustCompile(`CommandId="[^"]*"`).ReplaceAllString(req, `CommandId="`+id+`"`)
					}
				}
				req = guidRe.ReplaceAllStringFunc(req, func(g string) string {
					if ours, ok := ids[strings.ToUpper(g)]; ok {
						return ours
					}
					return g
				})
				status, got, err := c.post(req)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				wantStatus := 200
				if strings.Contains(m.Response, "<s:Fault>") {
					wantStatus = 500
				}
				if status != wantStatus {
					t.Fatalf("message %d: status %d, want %d\n%s", i, status, wantStatus, got)
				}
				if want := between(req, "<wsa:MessageID>", "<"); relatesTo(got) != want {
					t.Errorf("message %d: RelatesTo %q, want %q", i, relatesTo(got), want)
				}
				comparePaths(t, i, xmlPaths(t, m.Response), xmlPaths(t, got))
				learnIDs(ids, m.Response, got)
				if strings.Contains(m.Response, "ReceiveResponse") && sameOutput[file] {
					if w, g := streams(t, m.Response), streams(t, got); w != g {
						t.Errorf("message %d: output %s, Windows gave %s", i, g, w)
					}
				}
			}
		})
	}
}

func comparePaths(t *testing.T, i int, want, got []string) {
	t.Helper()
	for _, p := range want {
		if !slices.Contains(got, p) && !optionalPaths.MatchString(p) {
			t.Errorf("message %d: simulator lacks %s", i, p)
		}
	}
	for _, p := range got {
		if !slices.Contains(want, p) {
			t.Errorf("message %d: simulator adds %s", i, p)
		}
	}
}

// learnIDs maps the shell and command ids of a captured response to ours.
func learnIDs(ids map[string]string, captured, ours string) {
	for _, tag := range []string{`<rsp:ShellId>`, `<rsp:CommandId>`} {
		if w, g := between(captured, tag, "<"), between(ours, tag, "<"); w != "" && g != "" {
			ids[strings.ToUpper(w)] = g
		}
	}
}

// streams decodes a ReceiveResponse's output and exit code for comparison.
func streams(t *testing.T, doc string) string {
	var r receiveXML
	if err := xml.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	for _, s := range r.Body.Response.Streams {
		d, _ := base64.StdEncoding.DecodeString(s.Data)
		if s.Name == "stdout" {
			out.Write(d)
		} else {
			errb.Write(d)
		}
	}
	st := r.Body.Response.State
	return fmt.Sprintf("stdout=%q stderr=%q state=%s exit=%d", out.String(), errb.String(), st.State[strings.LastIndex(st.State, "/")+1:], st.ExitCode)
}
