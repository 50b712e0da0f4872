# aadcready probe "os": Windows version and edition, installation type, domain
# membership and role, and the DCOM defaults setup checks for.
# Reads: WMI Win32_OperatingSystem and Win32_ComputerSystem; the registry keys
#   HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion
#   HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions
#   HKLM\SOFTWARE\Microsoft\Ole
# Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in _prelude.ps1.

Add-AadcProperties (Read-AadcCommand { Get-WmiObject -Class Win32_OperatingSystem }) @{
    'os.caption' = 'Caption'
    'os.version' = 'Version'
}
Add-AadcProperties (Read-AadcCommand { Get-WmiObject -Class Win32_ComputerSystem }) @{
    'host.name'             = 'Name'
    'domain.part_of_domain' = 'PartOfDomain'
    'domain.name'           = 'Domain'
    'domain.role'           = 'DomainRole'
}

$cv = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
Add-AadcRegFact 'os.build' $cv 'CurrentBuildNumber'
Add-AadcRegFact 'os.ubr' $cv 'UBR'
Add-AadcRegFact 'os.installation_type' $cv 'InstallationType'
Add-AadcRegFact 'os.edition_id' $cv 'EditionID'
Add-AadcRegFact 'os.product_type' 'HKLM:\SYSTEM\CurrentControlSet\Control\ProductOptions' 'ProductType'

# Setup wants all three DCOM values present under the Ole key.
$present = $true
$why = $null
foreach ($name in @('MachineAccessRestriction', 'MachineLaunchRestriction', 'DefaultLaunchPermission')) {
    $r = Read-AadcRegValue 'HKLM:\SOFTWARE\Microsoft\Ole' $name
    if ($r.Status -eq 'E') { $why = $r.Reason }
    elseif ($r.Status -eq 'A') { $present = $false }
}
if ($null -ne $why) { Add-AadcError 'dcom.ole_restrictions_present' $why }
else { Add-AadcFact 'dcom.ole_restrictions_present' $present }
