package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"

	"aadcready/safefile"
)

// Resolver turns SecretRefs into passwords. Each distinct SecretRef is
// resolved once per run and kept in memory, so fifty hosts sharing
// password_prompt ask once, and a password file is read once.
// It is safe for concurrent use by the scanner's workers.
type Resolver struct {
	getenv func(string) string
	prompt func(label string) (string, error)

	// mu is held while a reference is resolved, prompt included: workers
	// asking for the same reference wait for the one answer rather than
	// prompting again, and two prompts never fight over one terminal.
	mu    sync.Mutex
	cache map[SecretRef]resolved
}

type resolved struct {
	password string
	err      error
}

// promptLabel is what the Resolver asks with for password_prompt.
const promptLabel = "WinRM password (password_prompt)"

// NewResolver returns a Resolver reading environment variables with getenv
// (os.Getenv in the CLI) and asking with prompt (TerminalPromptContext in the CLI).
// Both must be non-nil; tests pass fakes.
func NewResolver(getenv func(string) string, prompt func(label string) (string, error)) *Resolver {
	return &Resolver{getenv: getenv, prompt: prompt, cache: map[SecretRef]resolved{}}
}

// Password returns the password ref points to. Failures are remembered too:
// every host sharing a missing variable gets the same error without the
// operator being asked again. Errors name the source, never the value.
func (r *Resolver) Password(ref SecretRef) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res, ok := r.cache[ref]; ok {
		return res.password, res.err
	}
	pw, err := r.resolve(ref)
	r.cache[ref] = resolved{pw, err}
	return pw, err
}

func (r *Resolver) resolve(ref SecretRef) (string, error) {
	switch {
	case ref.Env != "":
		pw := r.getenv(ref.Env)
		if pw == "" {
			return "", fmt.Errorf("password_env: environment variable %s is not set or empty", envNameForMessage(ref.Env))
		}
		return pw, nil
	case ref.File != "":
		return readPasswordFile(ref.File)
	case ref.Prompt:
		pw, err := r.prompt(promptLabel)
		if err != nil {
			return "", fmt.Errorf("password_prompt: %w", err)
		}
		if pw == "" {
			return "", errors.New("password_prompt: empty password")
		}
		return pw, nil
	}
	return "", errors.New("no password source (password_env, password_file or password_prompt)")
}

// envNameForMessage is the name of a password_env variable as a message
// shows it: a name in the usual form (AADCREADY_PASSWORD) as it is; any
// other is not shown, since it may be the password typed in by mistake.
func envNameForMessage(name string) string {
	for i, r := range name {
		if !(r == '_' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return "(its name is not shown: it is not in capitals and may be a password typed in by mistake)"
		}
	}
	return name
}

// readPasswordFile reads a password kept in a file only its owner can read.
// The file is checked to be a regular file before it is opened (a named
// pipe would block the run) and again, with its owner and mode, on the
// open file, so the file checked is the file read.
//
// No message shows the path: people type the password itself into
// password_file, and "open S3cret: no such file" would print it. The
// caller says where the setting was written (file:line, host).
func readPasswordFile(path string) (string, error) {
	f, fi, err := safefile.Open(path)
	if err != nil {
		return "", secretFileError(err)
	}
	defer f.Close()
	if err := checkSecretFile(fi); err != nil {
		return "", err
	}
	data, err := safefile.ReadOpen(context.Background(), f, path, safefile.MaxSecret)
	if err != nil {
		return "", secretFileError(err)
	}
	// Editors and "echo pw > file" add a line end; Windows ones add CRLF.
	pw := strings.TrimRight(string(data), "\r\n")
	if pw == "" {
		return "", errors.New("password_file: the file is empty")
	}
	return pw, nil
}

// secretFileError is err about a password file without the path err names.
func secretFileError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("password_file: %w (the path is not shown: it may be a password typed in by mistake)", fs.ErrNotExist)
	case errors.Is(err, fs.ErrPermission):
		return errors.New("password_file: permission denied")
	}
	return fmt.Errorf("password_file: %w", err)
}

// checkSecretFile refuses a password file that someone other than its
// owner could read or change, or that belongs to another user than the one
// running the tool (or root). Windows has no mode bits: who can read the
// file is decided by its NTFS ACL, which is the administrator's job (see
// docs/inventory.md).
func checkSecretFile(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return errors.New("password_file: not a regular file")
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	switch perm := fi.Mode().Perm(); {
	case perm&0o044 != 0:
		return fmt.Errorf("password_file: the file is readable by group or others (mode %04o); chmod 600 it", uint32(perm))
	case perm&0o033 != 0:
		return fmt.Errorf("password_file: the file is writable or executable by group or others (mode %04o); chmod 600 it", uint32(perm))
	}
	return checkOwner(fi)
}

// CheckFiles checks, without reading a password, the files an inventory
// names: every password_file must exist and be a regular file owned by
// the running user (or root) that nobody else can read, every ca_file a
// regular file of at most safefile.MaxSmall bytes. It is what `inventory
// validate` (and scan and connect, before any host is contacted) add to
// Parse, which reads nothing from disk. Each file is reported once, at the
// first host using it, as "file:line: host: field:".
func CheckFiles(inv *Inventory) error {
	var errs []error
	seen := map[string]bool{}
	for _, h := range inv.Hosts {
		for _, f := range []struct {
			field, path string
			check       func(string) error
		}{{"password_file", h.Secret.File, statSecretFile}, {"ca_file", h.CAFile, statCAFile}} {
			if f.path == "" || seen[f.field+"\x00"+f.path] {
				continue
			}
			seen[f.field+"\x00"+f.path] = true
			if err := f.check(f.path); err != nil {
				if h.Source != "" {
					err = fmt.Errorf("%s: host %q: %w", h.Source, h.Name, err)
				} else {
					err = fmt.Errorf("host %q: %w", h.Name, err)
				}
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func statCAFile(path string) error {
	f, fi, err := safefile.Open(path)
	if err != nil {
		return fmt.Errorf("ca_file: %w", err)
	}
	f.Close()
	if fi.Size() > safefile.MaxSmall {
		return fmt.Errorf("ca_file: %s is larger than %d MiB; is this a PEM file?", path, safefile.MaxSmall>>20)
	}
	return nil
}

func statSecretFile(path string) error {
	f, fi, err := safefile.Open(path)
	if err != nil {
		return secretFileError(err)
	}
	defer f.Close()
	return checkSecretFile(fi)
}

// TerminalPromptContext returns a prompt that asks for a password on the terminal without echoing it.
// The question goes to stderr so that reports on stdout stay clean. It fails
// when stdin is not a terminal (a scheduled task, a pipe), where waiting for
// an answer would hang the run.
// It gives up with ErrPromptInterrupted when ctx ends (Ctrl-C).
func TerminalPromptContext(ctx context.Context) func(label string) (string, error) {
	return promptOn(ctx, os.Stdin, os.Stderr)
}

var errNotTerminal = errors.New("cannot ask for the password: standard input is not a terminal; use password_env or password_file for unattended runs")

// ErrPromptInterrupted is returned by a prompt whose context ended (Ctrl-C)
// while it waited for the password.
var ErrPromptInterrupted = errors.New("interrupted while asking for the password")
