# aadcready probe "powershell": the PowerShell that runs these probes, its
# language mode, the execution policy and the transcription policy.
# Reads: $PSVersionTable, the session's language mode, Get-ExecutionPolicy,
#   HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell (ExecutionPolicy)
#   HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell\Transcription
# Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in _prelude.ps1.

Add-AadcFact 'ps.version' $PSVersionTable.PSVersion
Add-AadcFact 'ps.clr_version' $PSVersionTable.CLRVersion
Add-AadcFact 'ps.language_mode' $ExecutionContext.SessionState.LanguageMode
Add-AadcResult 'ps.execution_policy' (Read-AadcCommand { Get-ExecutionPolicy })
Add-AadcRegFact 'ps.execution_policy_gpo' 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\PowerShell' 'ExecutionPolicy'

$r = Read-AadcRegValue 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\PowerShell\Transcription' 'EnableTranscripting'
if ($r.Status -eq 'F') { Add-AadcFact 'ps.transcription_enabled' ($r.Value -eq 1) }
else { Add-AadcResult 'ps.transcription_enabled' $r }
