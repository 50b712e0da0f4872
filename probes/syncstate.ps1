# aadcready probe "syncstate": is this server still syncing, and will a switch
# to application-based authentication hold? Read-only:
#   Get-ADSyncAutoUpgrade -Detail        auto-upgrade state with its reason
#   Get-WinEvent                         Application log events 1011 (certificate
#                                        expires within 150 days) and 1012 (expired),
#                                        last 30 days, at most 50 each
#   Get-Tpm                              TPM present and ready (needs elevation)
#   Get-ADSyncConnector                  which connector is Microsoft Entra ID's
#   Get-ADSyncRunProfileResult           the newest 200 runs at most
#   Get-ADSyncConnectorRunStatus         connectors running now
# Each cmdlet runs in its own try/catch with -ErrorAction Stop: a failure is an
# E record for the facts it feeds, never a guess. Changes nothing.
# Written for Windows PowerShell 2.0 to 5.1 and ConstrainedLanguage mode: only
# cmdlets, hashtables and methods of core types (string, DateTime, TimeSpan);
# no New-Object, no Add-Type, no [scriptblock]::Create. Only the prelude's
# Add-AadcFact, Add-AadcList, Add-AadcAbsent and Add-AadcError are used.

$maxRuns = 200
$maxEvents = 50

# ---- Certificate rotation events (Application log, no module needed) -------
$now = Get-Date
$since = ([datetime]$now).AddDays(-30)
foreach ($pair in @(@('certrot.warning_events', 1011), @('certrot.error_events', 1012))) {
    try {
        $found = @(Get-WinEvent -FilterHashtable @{ LogName = 'Application'; Id = $pair[1]; StartTime = $since } -MaxEvents $maxEvents -ErrorAction Stop)
        Add-AadcFact $pair[0] $found.Count
    } catch {
        # Get-WinEvent throws when no event matches: that is a count of 0.
        if ([string]$_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { Add-AadcFact $pair[0] 0 }
        else { Add-AadcError $pair[0] ([string]$_.Exception.Message) }
    }
}

# ---- TPM ---------------------------------------------------------------------
try {
    $tpm = Get-Tpm -ErrorAction Stop
    Add-AadcFact 'tpm.present' ([bool]$tpm.TpmPresent)
    Add-AadcFact 'tpm.ready' ([bool]$tpm.TpmReady)
} catch {
    Add-AadcError 'tpm.present' ([string]$_.Exception.Message)
    Add-AadcError 'tpm.ready' ([string]$_.Exception.Message)
}

# ---- The ADSync module -------------------------------------------------------
# Loaded here again: each probe runs in its own scope, and a module imported
# by the adsync probe is not guaranteed to be visible here.
$syncKeys = @('autoupgrade.detail', 'sync.entra_connector', 'sync.last_runs', 'sync.running',
    'sync.last_export_utc', 'sync.last_export_age_hours')
$module = 'C:\Program Files\Microsoft Azure AD Sync\Bin\ADSync'
try {
    $location = [string](Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\AD Sync' -Name 'Location' -ErrorAction Stop).Location
    if ($location) { $module = ([string]$location).TrimEnd('\') + '\Bin\ADSync' }
} catch {
    # No Location value: keep the default path.
}
$why = $null
if ($PSVersionTable.CLRVersion.Major -lt 4) {
    $why = 'the ADSync module needs .NET 4, this is the PowerShell 2.0 engine'
} elseif (-not (Test-Path -LiteralPath $module)) {
    $why = 'no ADSync module at ' + $module
} else {
    try {
        Import-Module -Name $module -DisableNameChecking -ErrorAction Stop
    } catch {
        $why = 'Import-Module ' + $module + ' failed: ' + [string]$_.Exception.Message
    }
}
if ($null -ne $why) {
    foreach ($key in $syncKeys) { Add-AadcError $key $why }
    return
}

try {
    $detail = (@(Get-ADSyncAutoUpgrade -Detail -ErrorAction Stop) | Out-String) -replace '\s+', ' '
    $detail = ([string]$detail).Trim()
    if ($detail) { Add-AadcFact 'autoupgrade.detail' $detail } else { Add-AadcAbsent 'autoupgrade.detail' }
} catch {
    Add-AadcError 'autoupgrade.detail' ([string]$_.Exception.Message)
}

# The Microsoft Entra ID connector: its subtype names Azure Active Directory.
$entra = $null
try {
    foreach ($c in @(Get-ADSyncConnector -ErrorAction Stop | Select-Object -First 50)) {
        if ($null -eq $entra -and ([string]$c.SubType -like '*Azure Active Directory*' -or [string]$c.Name -like '*- AAD')) { $entra = $c }
    }
    if ($null -eq $entra) { Add-AadcAbsent 'sync.entra_connector' } else { Add-AadcFact 'sync.entra_connector' ([string]$entra.Name) }
} catch {
    Add-AadcError 'sync.entra_connector' ([string]$_.Exception.Message)
}

try {
    $running = @()
    foreach ($r in @(Get-ADSyncConnectorRunStatus -ErrorAction Stop | Select-Object -First 50)) {
        $running += [string]$r.ConnectorName
    }
    Add-AadcList 'sync.running' $running
} catch {
    Add-AadcError 'sync.running' ([string]$_.Exception.Message)
}

# Run history: the newest run per connector, and the newest successful export
# to the Entra connector. Run history times are UTC.
try {
    $runs = @(Get-ADSyncRunProfileResult -NumberRequested $maxRuns -ErrorAction Stop | Select-Object -First $maxRuns)
    $newest = @{}
    $export = $null
    foreach ($run in $runs) {
        $name = [string]$run.ConnectorName
        if ($null -eq $newest[$name] -or $run.EndDate -gt $newest[$name].EndDate) { $newest[$name] = $run }
        if ($null -ne $entra -and [string]$run.ConnectorId -eq [string]$entra.Identifier -and
            [string]$run.RunProfileName -like '*Export*' -and [string]$run.Result -eq 'success' -and
            ($null -eq $export -or $run.EndDate -gt $export.EndDate)) { $export = $run }
    }
    $lines = @()
    foreach ($name in @($newest.Keys | Sort-Object | Select-Object -First 20)) {
        $run = $newest[$name]
        $end = ''
        if ($run.EndDate) { $end = ([datetime]$run.EndDate).ToString('yyyy-MM-ddTHH:mm:ss') + 'Z' }
        $lines += $name + '|' + [string]$run.RunProfileName + '|' + [string]$run.Result + '|' + $end
    }
    Add-AadcList 'sync.last_runs' $lines
    if ($null -eq $entra) {
        Add-AadcError 'sync.last_export_utc' 'no Microsoft Entra ID connector found'
        Add-AadcError 'sync.last_export_age_hours' 'no Microsoft Entra ID connector found'
    } elseif ($null -eq $export) {
        Add-AadcAbsent 'sync.last_export_utc'
        Add-AadcAbsent 'sync.last_export_age_hours'
    } else {
        Add-AadcFact 'sync.last_export_utc' (([datetime]$export.EndDate).ToString('yyyy-MM-ddTHH:mm:ss') + 'Z')
        $hours = (([datetime]$now).ToUniversalTime() - [datetime]$export.EndDate).TotalHours
        if ($hours -lt 0) { $hours = 0 }
        Add-AadcFact 'sync.last_export_age_hours' ([int64]($hours - ($hours % 1)))
    }
} catch {
    foreach ($key in @('sync.last_runs', 'sync.last_export_utc', 'sync.last_export_age_hours')) {
        Add-AadcError $key ([string]$_.Exception.Message)
    }
}
