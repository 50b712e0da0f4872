package catalog

import "testing"

// TestHardenedHostChecks: the execution policy is judged on the machine's
// scopes, not on the scan account's effective policy; only the reboot
// markers that mean a restart is required warn, PendingFileRenameOperations
// is information.
func TestHardenedHostChecks(t *testing.T) {
	c := loadCatalog(t)
	for _, tt := range []struct {
		name   string
		host   hostFacts
		checks map[string]Status
	}{
		{"AllSigned by group policy, the scan account's own scope Bypass", ws2019.with(hostFacts{
			"ps.execution_policy": "Bypass", "ps.execution_policy_machine_policy": "AllSigned", "ps.execution_policy_machine": "AllSigned",
		}), map[string]Status{"ps-execution-policy": StatusFail}},
		{"RemoteSigned on the machine, the scan account's user policy AllSigned", ws2019.with(hostFacts{
			"ps.execution_policy": "AllSigned", "ps.execution_policy_user_policy": "AllSigned", "ps.execution_policy_machine": "RemoteSigned",
		}), map[string]Status{"ps-execution-policy": StatusPass}},
		{"machine policy unknown", ws2019.with(hostFacts{"ps.execution_policy_machine": unknown("Access is denied")}),
			map[string]Status{"ps-execution-policy": StatusCouldNotCheck}},
		{"only PendingFileRenameOperations", ws2019.with(hostFacts{"reboot.file_rename_pending": true}),
			map[string]Status{"reboot-pending": StatusPass, "reboot-file-rename": StatusFail}},
		{"a pending computer rename", ws2019.with(hostFacts{"reboot.computer_rename_pending": true, "reboot.pending": true,
			"reboot.reasons": []string{"computer rename"}}),
			map[string]Status{"reboot-pending": StatusFail, "reboot-file-rename": StatusPass}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := c.Evaluate(tt.host.set(t), Options{AsOf: nov26})
			if ev.Verdict != VerdictOK {
				t.Errorf("verdict %s (%s): warnings and information never change it", ev.Verdict, ev.Reason)
			}
			for id, want := range tt.checks {
				if ch := checkByID(t, ev, id); ch.Status != want {
					t.Errorf("%s: %s (%s), want %s", id, ch.Status, ch.Reason, want)
				}
			}
		})
	}
	if sev := checkByID(t, c.Evaluate(ws2019.set(t), Options{AsOf: nov26}), "reboot-file-rename").Severity; sev != SeverityInfo {
		t.Errorf("reboot-file-rename is %s, want info", sev)
	}
}
