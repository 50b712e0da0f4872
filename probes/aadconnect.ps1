# aadcready probe "aadconnect": which Azure AD Connect / Microsoft Entra Connect
# Sync is installed, its service and its database, from the registry and files.
# Reads:
#   HKLM\SOFTWARE\Microsoft\Azure AD Connect (WizardPath) and that file's version
#   HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\* and its
#     WOW6432Node copy (DisplayName, DisplayVersion)
#   HKLM\SOFTWARE\Microsoft\AD Sync (Location)
#   WMI Win32_Service for the ADSync service (State, StartMode), else
#   HKLM\SYSTEM\CurrentControlSet\Services\ADSync (Start, DelayedAutostart); that key's
#     ObjectName and its
#     Parameters key (Server, SQLInstance, DBName)
#   HKLM\SOFTWARE\Microsoft\Microsoft SQL Server Local DB\Installed Versions
#   the size of the ADSync LocalDB database file
# Never uses Win32_Product, whose query makes Windows Installer check (and
# repair) every installed product. Changes nothing. The Add-Aadc*/Read-Aadc*
# helpers are defined in _prelude.ps1.

$wizard = Read-AadcRegValue 'HKLM:\SOFTWARE\Microsoft\Azure AD Connect' 'WizardPath'
Add-AadcResult 'aadc.wizard_path' $wizard
if ($wizard.Status -eq 'F') {
    Add-AadcResult 'aadc.wizard_version' (Read-AadcFileVersion ([string]$wizard.Value))
} elseif ($wizard.Status -eq 'A') {
    Add-AadcAbsent 'aadc.wizard_version'
} else {
    Add-AadcError 'aadc.wizard_version' ('WizardPath could not be read: ' + $wizard.Reason)
}

# Uninstall entries of the product and its companions under both the old and
# the new name, e.g. "Microsoft Azure AD Connect", "Microsoft Azure AD Connect
# synchronization services", "Microsoft Entra Connect Sync", "Microsoft Entra
# Connect synchronization services", "... Agent Updater", "... Health agent
# for sync". A bare '*Connect*' would also list "Remote Desktop Connection".
$patterns = @('*Azure AD Connect*', '*Azure Active Directory Connect*', '*Entra Connect*')
$roots = @(
    'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
)
# Each entry's values are read one by one (Read-AadcRegValue): a malformed
# value, or a key name Windows PowerShell cannot open (one with a '/',
# PowerShell#5536), loses that entry only. An entry whose DisplayName was
# read and does not match is irrelevant whatever else it holds; an entry
# whose DisplayName (or, for a match, DisplayVersion) could not be read goes
# to aadc.uninstall_unreadable, and the list of what was read is still
# reported - unless it holds no matching entry: then the unreadable one may
# be the product, and the list is unknown rather than empty. A root that
# cannot be listed makes the list unknown.
$entries = @()
$unreadable = @()
$why = $null
foreach ($root in $roots) {
    $children = Read-AadcChildKeys $root
    # A root that does not exist (no WOW6432Node on 32-bit Windows) is fine.
    if ($children.Status -eq 'E') { $why = $root + ': ' + $children.Reason }
    if ($children.Status -ne 'F') { continue }
    $unreadable += $children['Failed']
    foreach ($key in $children.Value) {
        $id = [string]$key.PSChildName
        $n = Read-AadcRegValue ([string]$key.PSPath) 'DisplayName'
        if ($n.Status -eq 'E') { $unreadable += $id + ': ' + $n.Reason; continue }
        if ($n.Status -ne 'F') { continue }
        $name = [string]$n.Value
        $match = $false
        foreach ($pattern in $patterns) {
            if ($name -like $pattern) { $match = $true }
        }
        if (-not $match) { continue }
        $v = Read-AadcRegValue ([string]$key.PSPath) 'DisplayVersion'
        if ($v.Status -eq 'E') { $unreadable += $id + ' (' + $name + '): ' + $v.Reason; continue }
        $entries += $name + '|' + [string]$v.Value
    }
}
if ($null -eq $why -and $entries.Count -eq 0 -and $unreadable.Count -gt 0) {
    $why = [string]$unreadable.Count + ' entries could not be read and none that could matches: ' + $unreadable[0]
}
if ($null -ne $why) { Add-AadcError 'aadc.uninstall_entries' $why }
else { Add-AadcList 'aadc.uninstall_entries' $entries }
Add-AadcList 'aadc.uninstall_unreadable' $unreadable
$location = Read-AadcRegValue 'HKLM:\SOFTWARE\Microsoft\AD Sync' 'Location'
Add-AadcResult 'adsync.install_location' $location

# Win32_Service lists only the services the account may query: a service
# with a restrictive DACL is missing there while its registry key exists.
# Then the start mode comes from the key and the state stays unknown, with a
# note; "absent" only when the key does not exist either.
$service = Read-AadcCommand { Get-WmiObject -Class Win32_Service -Filter "Name='ADSync'" }
$serviceKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\ADSync'
if ($service.Status -eq 'F') {
    Add-AadcFact 'adsync.service_state' $service.Value.State
    Add-AadcFact 'adsync.service_start_mode' $service.Value.StartMode
    Add-AadcFact 'adsync.service_source' 'wmi'
} else {
    $wmiSays = 'WMI Win32_Service has no ADSync service'
    if ($service.Status -eq 'E') { $wmiSays = 'WMI Win32_Service failed: ' + $service.Reason }
    $key = Test-AadcRegKey $serviceKey
    if ($key.Status -eq 'F' -and -not $key.Value -and $service.Status -eq 'A') {
        Add-AadcAbsent 'adsync.service_state'
        Add-AadcAbsent 'adsync.service_start_mode'
        Add-AadcAbsent 'adsync.service_source'
    } elseif ($key.Status -eq 'F' -and $key.Value) {
        $start = Read-AadcRegValue $serviceKey 'Start'
        $delayed = Read-AadcRegValue $serviceKey 'DelayedAutostart'
        $note = ''
        if ($start.Status -eq 'F' -and [string]$start.Value -eq '2' -and $delayed.Status -eq 'F' -and $delayed.Value -eq 1) { $note = ' (delayed start)' }
        Add-AadcError 'adsync.service_state' ($wmiSays + '; its registry key exists, so the service does (the account may not query it): state unknown' + $note)
        if ($start.Status -eq 'F') {
            # Win32_Service's StartMode names; a delayed start is "Auto" there too.
            $modes = @{ '0' = 'Boot'; '1' = 'System'; '2' = 'Auto'; '3' = 'Manual'; '4' = 'Disabled' }
            $mode = $modes[[string]$start.Value]
            if ($null -eq $mode) { $mode = 'Unknown' }
            Add-AadcFact 'adsync.service_start_mode' $mode
        } else {
            Add-AadcResult 'adsync.service_start_mode' $start
        }
        Add-AadcFact 'adsync.service_source' 'registry'
    } else {
        $keySays = 'no registry key'
        if ($key.Status -eq 'E') { $keySays = 'registry key: ' + $key.Reason }
        Add-AadcError 'adsync.service_state' ($wmiSays + '; ' + $keySays)
        Add-AadcError 'adsync.service_start_mode' ($wmiSays + '; ' + $keySays)
        Add-AadcError 'adsync.service_source' ($wmiSays + '; ' + $keySays)
    }
}
Add-AadcRegFact 'adsync.service_account' 'HKLM:\SYSTEM\CurrentControlSet\Services\ADSync' 'ObjectName'
$params = 'HKLM:\SYSTEM\CurrentControlSet\Services\ADSync\Parameters'
Add-AadcRegFact 'adsync.db_server' $params 'Server'
Add-AadcRegFact 'adsync.db_instance' $params 'SQLInstance'
Add-AadcRegFact 'adsync.db_name' $params 'DBName'

$versions = Read-AadcChildKeys 'HKLM:\SOFTWARE\Microsoft\Microsoft SQL Server Local DB\Installed Versions'
if ($versions.Status -eq 'F' -and $versions['Failed'].Count -gt 0) {
    # A version key that cannot be opened may be the one the database needs.
    Add-AadcError 'localdb.installed_versions' $versions['Failed'][0]
} elseif ($versions.Status -eq 'F') {
    $names = @()
    foreach ($key in $versions.Value) { $names += [string]$key.PSChildName }
    Add-AadcList 'localdb.installed_versions' $names
} else {
    Add-AadcResult 'localdb.installed_versions' $versions
}
# The LocalDB database file: ADSync2019 instance (V2) first, then ADSync (V1).
if ($location.Status -eq 'F') { $base = ([string]$location.Value).TrimEnd('\') }
else { $base = 'C:\Program Files\Microsoft Azure AD Sync' }
$mdf = $null
$why = $null
foreach ($relative in @('\Data\ADSync2019\ADSync.mdf', '\Data\ADSync.mdf')) {
    $e = $null
    $file = Get-Item -LiteralPath ($base + $relative) -ErrorAction SilentlyContinue -ErrorVariable e
    if ($null -ne $file) { $mdf = $file; break }
    $r = Get-AadcFailure $e
    if ($r.Status -eq 'E') { $why = $r.Reason }
}
if ($null -eq $mdf -and $null -eq $why) {
    # A file in a folder we may not list looks like a missing file: make sure
    # the Data folder is readable before calling the file absent.
    $e = $null
    $null = Get-ChildItem -LiteralPath ($base + '\Data') -ErrorAction SilentlyContinue -ErrorVariable e
    if ($e.Count -gt 0) {
        $r = Get-AadcFailure $e
        if ($r.Status -eq 'E') { $why = $r.Reason }
    }
}
if ($null -ne $mdf) {
    Add-AadcFact 'localdb.mdf_path' $mdf.FullName
    Add-AadcFact 'localdb.mdf_bytes' $mdf.Length
} elseif ($null -ne $why) {
    Add-AadcError 'localdb.mdf_path' $why
    Add-AadcError 'localdb.mdf_bytes' $why
} else {
    Add-AadcAbsent 'localdb.mdf_path'
    Add-AadcAbsent 'localdb.mdf_bytes'
}
