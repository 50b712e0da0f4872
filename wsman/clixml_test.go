package wsman

import "testing"

func TestDecodeCLIXML(t *testing.T) {
	const objs = `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">`
	progress := `<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN>` +
		`<MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>`
	cases := []struct{ name, in, want string }{
		{"plain text untouched", "error: boom\r\n", "error: boom\r\n"},
		{"empty", "", ""},
		{"errors with CRLF escapes",
			"#< CLIXML\r\n" + objs + progress + `<S S="Error">Get-Item : Cannot find path_x000D__x000A_</S><S S="Error">At line:1 char:1_x000D__x000A_</S></Objs>`,
			"Get-Item : Cannot find path\r\nAt line:1 char:1\r\n"},
		{"warning and escaped underscore", "#< CLIXML\n" + objs + `<S S="Warning">a_x005F_b_x0009_c</S></Objs>`, "a_b\tc"},
		{"surrogate pair", "#< CLIXML\n" + objs + `<S S="Error">_xD83D__xDE00_ ok</S></Objs>`, "😀 ok"},
		{"xml entities", "#< CLIXML\n" + objs + `<S S="Error">&lt;tag&gt; &amp; more</S></Objs>`, "<tag> & more"},
		{"not an escape", "#< CLIXML\n" + objs + `<S S="Error">_x12_ _xZZZZ_ _x</S></Objs>`, "_x12_ _xZZZZ_ _x"},
		{"text around block", "before\r\n#< CLIXML\r\n" + objs + `<S S="Error">inside</S></Objs>after`, "before\r\ninsideafter"},
		{"two blocks", "#< CLIXML\r\n" + objs + `<S S="Error">one_x000A_</S></Objs>#< CLIXML\r\n` + objs + `<S S="Error">two</S></Objs>`, "one\ntwo"},
		{"broken xml kept raw", "#< CLIXML\r\n<Objs><S>unclosed", "<Objs><S>unclosed"},
		{"nested strings ignored", "#< CLIXML\n" + objs + `<Obj><MS><S N="x">nested</S></MS></Obj><S S="Error">top</S></Objs>`, "top"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecodeCLIXML([]byte(tc.in)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzDecodeCLIXML(f *testing.F) {
	f.Add([]byte("#< CLIXML\r\n<Objs><S S=\"Error\">x_x000D__x000A_</S></Objs>"))
	f.Add([]byte("plain"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = DecodeCLIXML(b)
	})
}
