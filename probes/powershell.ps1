# aadcready probe "powershell": the PowerShell that runs these probes, its
# language mode and process architecture, the execution policy of each scope
# and the transcription policy.
# Reads: $PSVersionTable, the session's language mode, the environment
#   variables PROCESSOR_ARCHITECTURE and PROCESSOR_ARCHITEW6432,
#   Get-ExecutionPolicy (effective, and -Scope MachinePolicy, UserPolicy,
#   LocalMachine),
#   HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell (ExecutionPolicy)
#   HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell\ScriptBlockLogging
#   HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell\Transcription
# Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in _prelude.ps1.
Add-AadcFact 'ps.version' $PSVersionTable.PSVersion
Add-AadcFact 'ps.clr_version' $PSVersionTable.CLRVersion
Add-AadcFact 'ps.language_mode' ([string]$ExecutionContext.SessionState.LanguageMode)
# "AMD64"; "x86 on AMD64" for a 32-bit PowerShell on 64-bit Windows, whose
# HKLM\SOFTWARE reads the prelude reports as could-not-check.
if ($AadcWow64) { Add-AadcFact 'ps.process_arch' ([string]$env:PROCESSOR_ARCHITECTURE + ' on ' + $env:PROCESSOR_ARCHITEW6432) }
else { Add-AadcFact 'ps.process_arch' $env:PROCESSOR_ARCHITECTURE }
# The effective policy is the scan account's (it includes its CurrentUser
# scope); setup is judged on the machine's: MachinePolicy (group policy)
# wins over LocalMachine.
Add-AadcResult 'ps.execution_policy' (Read-AadcCommand { Get-ExecutionPolicy })
$machinePolicy = Read-AadcCommand { Get-ExecutionPolicy -Scope MachinePolicy }
$localMachine = Read-AadcCommand { Get-ExecutionPolicy -Scope LocalMachine }
Add-AadcResult 'ps.execution_policy_machine_policy' $machinePolicy
Add-AadcResult 'ps.execution_policy_user_policy' (Read-AadcCommand { Get-ExecutionPolicy -Scope UserPolicy })
Add-AadcResult 'ps.execution_policy_local_machine' $localMachine
if ($machinePolicy.Status -eq 'F' -and [string]$machinePolicy.Value -ne 'Undefined') {
    Add-AadcFact 'ps.execution_policy_machine' ([string]$machinePolicy.Value)
} elseif ($machinePolicy.Status -eq 'F') {
    Add-AadcResult 'ps.execution_policy_machine' $localMachine
} else {
    Add-AadcResult 'ps.execution_policy_machine' $machinePolicy
}
Add-AadcRegFact 'ps.execution_policy_gpo' 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\PowerShell' 'ExecutionPolicy'
# Script block logging and transcription record what this bundle runs and
# prints (docs/probes.md, "What the SOC sees").
$r = Read-AadcRegValue 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\PowerShell\ScriptBlockLogging' 'EnableScriptBlockLogging'
if ($r.Status -eq 'F') { Add-AadcFact 'ps.script_block_logging' ($r.Value -eq 1) }
else { Add-AadcResult 'ps.script_block_logging' $r }
$r = Read-AadcRegValue 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\PowerShell\Transcription' 'EnableTranscripting'
if ($r.Status -eq 'F') { Add-AadcFact 'ps.transcription_enabled' ($r.Value -eq 1) }
else { Add-AadcResult 'ps.transcription_enabled' $r }
