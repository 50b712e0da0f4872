# aadcready probe "reboot": whether Windows waits for a restart (TLS registry
# changes take effect only after one).
# Reads:
#   HKLM\SYSTEM\CurrentControlSet\Control\Session Manager (PendingFileRenameOperations)
#   HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending (key exists)
#   HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired (key exists)
# Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in _prelude.ps1.

$reasons = @()
$why = $null

$r = Read-AadcRegValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' 'PendingFileRenameOperations'
if ($r.Status -eq 'E') { $why = $r.Reason }
elseif ($r.Status -eq 'F' -and $r.Value) { $reasons += 'PendingFileRenameOperations' }

$r = Test-AadcRegKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
if ($r.Status -eq 'E') { $why = $r.Reason }
elseif ($r.Value) { $reasons += 'CBS RebootPending' }

$r = Test-AadcRegKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
if ($r.Status -eq 'E') { $why = $r.Reason }
elseif ($r.Value) { $reasons += 'WindowsUpdate RebootRequired' }

# One marker set is enough for "pending"; "not pending" needs all three read.
if ($reasons.Count -gt 0) { Add-AadcFact 'reboot.pending' $true }
elseif ($null -ne $why) { Add-AadcError 'reboot.pending' $why }
else { Add-AadcFact 'reboot.pending' $false }
if ($null -ne $why) { Add-AadcError 'reboot.reasons' $why }
else { Add-AadcList 'reboot.reasons' $reasons }
