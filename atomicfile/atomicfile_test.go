package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	if err := WriteBytes(path, 0o640, []byte("first")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, 0o640, func(w io.Writer) error {
		if _, err := w.Write([]byte("half of the second")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "first" {
		t.Errorf("after a failed write the file holds %q, want the old content", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteBytes(path, 0o600, []byte("second")); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(got) != "second" || st.Mode().Perm() != 0o600 {
		t.Errorf("got %q mode %v, want second 0600", got, st.Mode().Perm())
	}
}

func TestWriteMissingDir(t *testing.T) {
	err := WriteBytes(filepath.Join(t.TempDir(), "no", "such", "f"), 0o600, nil)
	if err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

// TestModes: files are the owner's alone unless the group mode is set,
// and never more than the perm asked for or the umask allows.
func TestModes(t *testing.T) {
	defer SetMode(Private)
	tests := []struct {
		mode      Mode
		perm      os.FileMode
		file, dir os.FileMode
	}{
		{Private, 0o644, 0o600, 0o700},
		{Private, 0o666, 0o600, 0o700},
		{Group, 0o644, 0o640, 0o750},
		{Group, 0o600, 0o600, 0o750},
	}
	for _, tt := range tests {
		SetMode(tt.mode)
		dir := t.TempDir()
		path := filepath.Join(dir, "out.csv")
		if err := WriteBytes(path, tt.perm, []byte("x")); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := tt.file &^ umask; st.Mode().Perm() != want {
			t.Errorf("mode %d perm %04o: file %04o, want %04o", tt.mode, tt.perm, st.Mode().Perm(), want)
		}
		sub := filepath.Join(dir, "a", "b")
		if err := MkdirAll(sub); err != nil {
			t.Fatal(err)
		}
		st, _ = os.Stat(sub)
		if want := tt.dir &^ umask; st.Mode().Perm() != want {
			t.Errorf("mode %d: folder %04o, want %04o", tt.mode, st.Mode().Perm(), want)
		}
	}
	for _, s := range []string{"private", "group", "world", "0644"} {
		_, err := ParseMode(s)
		if (err == nil) != (s == "private" || s == "group") {
			t.Errorf("ParseMode(%q): %v", s, err)
		}
	}
}
