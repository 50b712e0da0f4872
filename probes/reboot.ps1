# aadcready probe "reboot": whether Windows waits for a restart (TLS registry
# changes take effect only after one). Each marker is its own fact;
# reboot.pending counts only the markers that mean a restart is required.
# PendingFileRenameOperations is reported on its own and not counted: on
# servers with antivirus or agents it is rarely empty (the PendingReboot
# module has -SkipPendingFileRenameOperationsCheck for that reason).
# Reads:
#   HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending (key exists)
#   HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired (key exists)
#   HKLM\SYSTEM\CurrentControlSet\Services\Netlogon (JoinDomain, AvoidSpnSet exist)
#   HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName and
#     ...\ComputerName\ComputerName (ComputerName differs: a rename waits)
#   HKLM\SYSTEM\CurrentControlSet\Control\Session Manager (PendingFileRenameOperations)
# Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in _prelude.ps1.
# The markers set and the last marker that could not be read, in a
# hashtable the helper below can add to from its own scope.
$seen = @{ Required = @(); Why = $null }
# Add-RebootMarker: reports one marker ($Result: F with a bool, or A/E) and
# counts it towards reboot.pending.
function Add-RebootMarker([string]$Key, [string]$Label, $Result) {
    if ($Result.Status -eq 'F') {
        Add-AadcFact $Key ([bool]$Result.Value)
        if ($Result.Value) { $seen['Required'] += $Label }
    } else {
        Add-AadcResult $Key $Result
        $seen['Why'] = $Label + ': ' + $Result.Reason
    }
}
# A value's existence as F true/false (A becomes false).
function Test-AadcRegValue([string]$Path, [string]$Name) {
    $r = Read-AadcRegValue $Path $Name
    if ($r.Status -eq 'A') { return @{ Status = 'F'; Value = $false } }
    if ($r.Status -eq 'F') { return @{ Status = 'F'; Value = $true } }
    return $r
}
$cv = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion'
Add-RebootMarker 'reboot.cbs_reboot_pending' 'CBS RebootPending' (Test-AadcRegKey ($cv + '\Component Based Servicing\RebootPending'))
Add-RebootMarker 'reboot.wu_reboot_required' 'WindowsUpdate RebootRequired' (Test-AadcRegKey ($cv + '\WindowsUpdate\Auto Update\RebootRequired'))
$netlogon = 'HKLM:\SYSTEM\CurrentControlSet\Services\Netlogon'
Add-RebootMarker 'reboot.netlogon_join_domain' 'Netlogon JoinDomain' (Test-AadcRegValue $netlogon 'JoinDomain')
Add-RebootMarker 'reboot.netlogon_avoid_spn_set' 'Netlogon AvoidSpnSet' (Test-AadcRegValue $netlogon 'AvoidSpnSet')
$names = 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName'
$active = Read-AadcRegValue ($names + '\ActiveComputerName') 'ComputerName'
$pending = Read-AadcRegValue ($names + '\ComputerName') 'ComputerName'
if ($active.Status -eq 'F' -and $pending.Status -eq 'F') {
    $rename = @{ Status = 'F'; Value = ([string]$active.Value -ne [string]$pending.Value) }
} elseif ($active.Status -ne 'F') {
    $rename = $active
} else {
    $rename = $pending
}
if ($rename.Status -eq 'A') { $rename = @{ Status = 'E'; Reason = 'no ComputerName value' } }
Add-RebootMarker 'reboot.computer_rename_pending' 'computer rename' $rename
# One required marker is enough for "pending"; "not pending" needs all read.
$required = $seen['Required']
$why = $seen['Why']
if ($required.Count -gt 0) { Add-AadcFact 'reboot.pending' $true }
elseif ($null -ne $why) { Add-AadcError 'reboot.pending' $why }
else { Add-AadcFact 'reboot.pending' $false }
if ($null -ne $why) { Add-AadcError 'reboot.reasons' $why }
else { Add-AadcList 'reboot.reasons' $required }
$r = Read-AadcRegValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' 'PendingFileRenameOperations'
if ($r.Status -eq 'F') { Add-AadcFact 'reboot.file_rename_pending' ([bool]$r.Value) }
elseif ($r.Status -eq 'A') { Add-AadcFact 'reboot.file_rename_pending' $false }
else { Add-AadcResult 'reboot.file_rename_pending' $r }
