# aadcready probe "adsync": staging mode, scheduler, auto-upgrade and the
# identity the Entra connector signs in with, from the ADSync module's
# read-only Get-* cmdlets (they need ADSyncAdmins or local administrators).
# Reads: HKLM\SOFTWARE\Microsoft\AD Sync (Location), to find the module in
#   <Location>\Bin\ADSync (default C:\Program Files\Microsoft Azure AD Sync),
#   then Get-ADSyncScheduler, Get-ADSyncAutoUpgrade and
#   Get-ADSyncEntraConnectorCredential.
# When the module cannot be loaded every fact is reported as unknown with the
# reason. Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in
# _prelude.ps1.

$keys = @('adsync.staging_mode', 'adsync.sync_cycle_enabled', 'adsync.scheduler_suspended',
    'adsync.auto_upgrade', 'adsync.connector_identity_type')

$location = Read-AadcRegValue 'HKLM:\SOFTWARE\Microsoft\AD Sync' 'Location'
if ($location.Status -eq 'F') { $module = ([string]$location.Value).TrimEnd('\') + '\Bin\ADSync' }
else { $module = 'C:\Program Files\Microsoft Azure AD Sync\Bin\ADSync' }

# A fresh session has no ADSync cmdlets: import the module explicitly.
$why = $null
if ($PSVersionTable.CLRVersion.Major -lt 4) {
    $why = 'the ADSync module needs .NET 4, this is the PowerShell 2.0 engine'
} elseif (-not (Test-Path -LiteralPath $module)) {
    $why = 'no ADSync module at ' + $module
} else {
    try {
        Import-Module -Name $module -DisableNameChecking -ErrorAction Stop
    } catch {
        $why = 'Import-Module ' + $module + ' failed: ' + $_.Exception.Message
    }
}
if ($null -ne $why) {
    foreach ($key in $keys) { Add-AadcError $key $why }
    return
}

Add-AadcProperties (Read-AadcCommand { Get-ADSyncScheduler }) @{
    'adsync.staging_mode'        = 'StagingModeEnabled'
    'adsync.sync_cycle_enabled'  = 'SyncCycleEnabled'
    'adsync.scheduler_suspended' = 'SchedulerSuspended'
}
Add-AadcResult 'adsync.auto_upgrade' (Read-AadcCommand { Get-ADSyncAutoUpgrade })
# Builds before 2.5.3.0 have no such cmdlet: that is an E with PowerShell's message.
Add-AadcProperties (Read-AadcCommand { Get-ADSyncEntraConnectorCredential }) @{
    'adsync.connector_identity_type' = 'ConnectorIdentityType'
}
