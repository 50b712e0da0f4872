package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
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
			return "", fmt.Errorf("password_env: environment variable %s is not set or empty", ref.Env)
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

// readPasswordFile reads a password kept in a file only its owner can read.
// The mode is checked on the open file, not on the path, so the file checked
// is the file read.
func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("password_file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("password_file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("password_file: %s is not a regular file", path)
	}
	// Windows has no mode bits: who can read the file is decided by its NTFS
	// ACL, which is the administrator's job (see docs/inventory.md).
	if runtime.GOOS != "windows" {
		if err := checkOwnerOnly(path, fi.Mode().Perm()); err != nil {
			return "", err
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "", fmt.Errorf("password_file: %w", err)
	}
	// Editors and "echo pw > file" add a line end; Windows ones add CRLF.
	pw := strings.TrimRight(string(data), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("password_file: %s is empty", path)
	}
	return pw, nil
}

func checkOwnerOnly(path string, perm os.FileMode) error {
	switch {
	case perm&0o044 != 0:
		return fmt.Errorf("password_file: %s is readable by group or others (mode %04o); chmod 600 it", path, uint32(perm))
	case perm&0o033 != 0:
		return fmt.Errorf("password_file: %s is writable or executable by group or others (mode %04o); chmod 600 it", path, uint32(perm))
	}
	return nil
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
