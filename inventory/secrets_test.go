package inventory

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/term"
)

const secret = "Tier0-S3cr3t!"

func noPrompt(t *testing.T) func(string) (string, error) {
	return func(string) (string, error) {
		t.Error("prompt called")
		return "", errors.New("unexpected prompt")
	}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestResolverEnv(t *testing.T) {
	r := NewResolver(env(map[string]string{"AADCREADY_PASSWORD": secret, "EMPTY": ""}), noPrompt(t))
	pw, err := r.Password(SecretRef{Env: "AADCREADY_PASSWORD"})
	if err != nil || pw != secret {
		t.Errorf("got %q, %v", pw, err)
	}
	for _, name := range []string{"UNSET", "EMPTY"} {
		_, err := r.Password(SecretRef{Env: name})
		if err == nil || !strings.Contains(err.Error(), "environment variable "+name+" is not set or empty") {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := r.Password(SecretRef{}); err == nil {
		t.Error("zero SecretRef: no error")
	}
	// A password typed into password_env is not echoed.
	if _, err := r.Password(SecretRef{Env: "Tier0S3cr3t"}); err == nil || strings.Contains(err.Error(), "Tier0S3cr3t") {
		t.Errorf("a password in password_env: %v", err)
	}
}

func TestResolverFile(t *testing.T) {
	r := NewResolver(env(nil), noPrompt(t))

	ok := writeFile(t, "pw", secret+"\r\n", 0o600)
	if pw, err := r.Password(SecretRef{File: ok}); err != nil || pw != secret {
		t.Errorf("0600 file: got %q, %v (want the password with its line end trimmed)", pw, err)
	}
	readOnly := writeFile(t, "pw-ro", secret, 0o400)
	if pw, err := r.Password(SecretRef{File: readOnly}); err != nil || pw != secret {
		t.Errorf("0400 file: got %q, %v", pw, err)
	}

	empty := writeFile(t, "empty", "\n", 0o600)
	if _, err := r.Password(SecretRef{File: empty}); err == nil || !strings.Contains(err.Error(), "the file is empty") {
		t.Errorf("empty file: got %v", err)
	}
	if _, err := r.Password(SecretRef{File: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: got %v", err)
	}
	if _, err := r.Password(SecretRef{File: ok + ".missing"}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
}

func TestResolverFileModeRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no mode bits on Windows: NTFS ACLs decide who can read the file")
	}
	r := NewResolver(env(nil), noPrompt(t))
	for _, tt := range []struct {
		mode os.FileMode
		want string
	}{
		{0o644, "is readable by group or others (mode 0644); chmod 600 it"},
		{0o640, "is readable by group or others (mode 0640); chmod 600 it"},
		{0o620, "is writable or executable by group or others (mode 0620); chmod 600 it"},
	} {
		path := writeFile(t, "pw", secret, tt.mode)
		_, err := r.Password(SecretRef{File: path})
		if err == nil || !strings.Contains(err.Error(), "the file "+tt.want) {
			t.Errorf("mode %04o: got %v", tt.mode, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("mode %04o: error shows the password: %v", tt.mode, err)
		}
	}
}

// Hosts sharing a SecretRef are asked once, even when the scanner's workers
// ask at the same time.
func TestResolverPromptsOncePerRef(t *testing.T) {
	var calls atomic.Int32
	prompt := func(label string) (string, error) {
		calls.Add(1)
		if !strings.Contains(label, "password") {
			t.Errorf("label %q does not say what is asked", label)
		}
		return secret, nil
	}
	r := NewResolver(env(nil), prompt)

	inv, err := Parse("inv.yaml", []byte(`
defaults: {username: svc, password_prompt: true}
hosts: [{name: aadc01}, {name: aadc02}, {name: aadc03}]
`))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, h := range inv.Hosts {
		wg.Go(func() {
			if pw, err := r.Password(h.Secret); err != nil || pw != secret {
				t.Errorf("%s: got %q, %v", h.Name, pw, err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("prompted %d times for one shared reference, want 1", n)
	}
}

func TestResolverPromptFailureIsRemembered(t *testing.T) {
	var calls int
	r := NewResolver(env(nil), func(string) (string, error) {
		calls++
		return "", errors.New("standard input is not a terminal")
	})
	for range 2 {
		if _, err := r.Password(SecretRef{Prompt: true}); err == nil || !strings.Contains(err.Error(), "password_prompt: standard input is not a terminal") {
			t.Errorf("got %v", err)
		}
	}
	if calls != 1 {
		t.Errorf("prompted %d times, want 1", calls)
	}

	r = NewResolver(env(nil), func(string) (string, error) { return "", nil })
	if _, err := r.Password(SecretRef{Prompt: true}); err == nil || !strings.Contains(err.Error(), "empty password") {
		t.Errorf("empty answer: got %v", err)
	}
}

func TestSecretRefString(t *testing.T) {
	for ref, want := range map[SecretRef]string{
		{Env: "AADCREADY_PASSWORD"}: "env:AADCREADY_PASSWORD",
		{File: "/etc/aadcready/pw"}: "file:/etc/aadcready/pw",
		{Prompt: true}:              "prompt",
		{}:                          "none",
	} {
		if got := ref.String(); got != want {
			t.Errorf("%#v: got %q, want %q", ref, got, want)
		}
	}
}

func TestTerminalPromptWithoutTerminal(t *testing.T) {
	if term.IsTerminal(int(os.Stdin.Fd())) {
		t.Skip("stdin is a terminal")
	}
	if _, err := TerminalPromptContext(context.Background())("password"); err == nil || !strings.Contains(err.Error(), "not a terminal") {
		t.Errorf("got %v", err)
	}
}

// A password typed into password_file (instead of a path) is never shown:
// not when the file is missing, not relative to the inventory's folder.
func TestPasswordFileValueNeverEchoed(t *testing.T) {
	dir := t.TempDir()
	inv, err := Parse(dir+"/inv.yaml", []byte("defaults: {username: svc, password_file: "+secret+"}\nhosts: [{name: aadc01}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, rerr := NewResolver(env(nil), noPrompt(t)).Password(inv.Hosts[0].Secret)
	verr := CheckFiles(inv)
	for _, err := range []error{rerr, verr} {
		if err == nil {
			t.Fatal("a missing password file passed")
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "S3cr3t") {
			t.Errorf("the error shows the value: %v", err)
		}
	}
	if want := dir + "/inv.yaml:2: host \"aadc01\": password_file: "; !strings.HasPrefix(verr.Error(), want) {
		t.Errorf("CheckFiles: %v, want it to start with %q", verr, want)
	}
}
