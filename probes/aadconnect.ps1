# aadcready probe "aadconnect": which Azure AD Connect / Microsoft Entra Connect
# Sync is installed, its service and its database, from the registry and files.
# Reads:
#   HKLM\SOFTWARE\Microsoft\Azure AD Connect (WizardPath) and that file's version
#   HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\* and its
#     WOW6432Node copy (DisplayName, DisplayVersion)
#   HKLM\SOFTWARE\Microsoft\AD Sync (Location)
#   WMI Win32_Service for the ADSync service (State, StartMode)
#   HKLM\SYSTEM\CurrentControlSet\Services\ADSync (ObjectName) and its
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
$entries = @()
$why = $null
foreach ($root in $roots) {
    $e = $null
    $keys = @(Get-ChildItem -LiteralPath $root -ErrorAction SilentlyContinue -ErrorVariable e)
    # A root that does not exist (no WOW6432Node on 32-bit Windows) is fine;
    # an entry that cannot be read makes the whole list unknown.
    if ($e.Count -gt 0) {
        $r = Get-AadcFailure $e
        if ($r.Status -eq 'E') { $why = $r.Reason }
    }
    foreach ($key in $keys) {
        $e = $null
        $p = Get-ItemProperty -LiteralPath $key.PSPath -ErrorAction SilentlyContinue -ErrorVariable e
        if ($e.Count -gt 0) { $why = [string]$e[0].Exception.Message }
        if ($null -eq $p) { continue }
        $name = [string]$p.DisplayName
        foreach ($pattern in $patterns) {
            if ($name -like $pattern) {
                $entries += $name + '|' + [string]$p.DisplayVersion
                break
            }
        }
    }
}
if ($null -ne $why) { Add-AadcError 'aadc.uninstall_entries' $why }
else { Add-AadcList 'aadc.uninstall_entries' $entries }

$location = Read-AadcRegValue 'HKLM:\SOFTWARE\Microsoft\AD Sync' 'Location'
Add-AadcResult 'adsync.install_location' $location

Add-AadcProperties (Read-AadcCommand { Get-WmiObject -Class Win32_Service -Filter "Name='ADSync'" }) @{
    'adsync.service_state'      = 'State'
    'adsync.service_start_mode' = 'StartMode'
}
Add-AadcRegFact 'adsync.service_account' 'HKLM:\SYSTEM\CurrentControlSet\Services\ADSync' 'ObjectName'
$params = 'HKLM:\SYSTEM\CurrentControlSet\Services\ADSync\Parameters'
Add-AadcRegFact 'adsync.db_server' $params 'Server'
Add-AadcRegFact 'adsync.db_instance' $params 'SQLInstance'
Add-AadcRegFact 'adsync.db_name' $params 'DBName'

$e = $null
$versions = @(Get-ChildItem -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Microsoft SQL Server Local DB\Installed Versions' -ErrorAction SilentlyContinue -ErrorVariable e)
if ($e.Count -gt 0) {
    Add-AadcResult 'localdb.installed_versions' (Get-AadcFailure $e)
} else {
    $names = @()
    foreach ($key in $versions) { $names += $key.PSChildName }
    Add-AadcList 'localdb.installed_versions' $names
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
