package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"

	"aadcready/catalog"
	"aadcready/results"
	"aadcready/runstore"
)

// The output stage: a SIGTERM that came while the run was saved still ends
// with 130 once everything is written; a save that fails is exit 4 (not 3,
// "nothing was scanned"), and the other outputs are written all the same.
func TestFinishExitCodes(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	newRun := func() *results.Run {
		run := &results.Run{Schema: results.SchemaVersion, Tool: "aadcready", Started: time.Now().UTC(), AsOf: "2026-12-03",
			Hosts: []results.Host{{Name: "aadc01", Verdict: catalog.VerdictOK}}}
		run.Summarize()
		return run
	}
	for _, tt := range []struct {
		name      string
		cancelled bool
		breakSave bool
		want      int
	}{
		{"clean", false, false, results.ExitOK},
		{"SIGTERM during the save", true, false, results.ExitInterrupted},
		{"save fails", false, true, results.ExitOutput},
		{"save fails and SIGTERM", true, true, results.ExitInterrupted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			store, err := runstore.Open(filepath.Join(dir, "runs"))
			if err != nil {
				t.Fatal(err)
			}
			out, err := store.Create(time.Now(), false)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if tt.breakSave {
				// The staging folder goes away under the writer.
				stale, _ := store.Stale()
				for _, s := range stale {
					os.RemoveAll(s)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancelled {
				cancel()
			}
			defer cancel()
			v := viper.New()
			jsonPath := filepath.Join(dir, "run.json")
			v.Set("json", jsonPath)
			var stdout, stderr bytes.Buffer
			err = finish(ctx, &stdout, &stderr, v, newRun(), cat, out, nil, slog.New(slog.DiscardHandler), runstore.Policy{})
			code := exitCodeOf(err)
			if code != tt.want {
				t.Errorf("exit %d, want %d (%v)\n%s", code, tt.want, err, stderr.String())
			}
			if _, err := os.Stat(jsonPath); err != nil {
				t.Errorf("--json not written: %v", err)
			}
			if !strings.Contains(stdout.String(), "aadc01") {
				t.Error("no table")
			}
			if tt.breakSave && !strings.Contains(stderr.String()+errText(err), "--out: saving the run") {
				t.Errorf("the failed save is not named:\n%s%v", stderr.String(), err)
			}
			if !tt.breakSave {
				if _, err := os.Stat(filepath.Join(dir, "runs", "latest", "run.json")); err != nil {
					t.Errorf("run folder not saved: %v", err)
				}
			}
		})
	}
}

func exitCodeOf(err error) int {
	code, _ := codeOf(err)
	return code
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
