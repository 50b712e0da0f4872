# aadcready probe "vcredist": the Visual C++ 2015-2022 (14.x) x64 runtime.
# Reads: HKLM\SOFTWARE\Microsoft\VisualStudio\14.0\VC\Runtimes\x64 and its
#   WOW6432Node copy (Installed, Version).
# Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in _prelude.ps1.

$views = @(
    'HKLM:\SOFTWARE\Microsoft\VisualStudio\14.0\VC\Runtimes\x64',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\VisualStudio\14.0\VC\Runtimes\x64'
)
# The first view with Installed = 1 wins; else the first with any Installed value.
$installed = $null
$other = $null
$why = $null
foreach ($path in $views) {
    $r = Read-AadcRegValue $path 'Installed'
    if ($r.Status -eq 'E') { $why = $r.Reason }
    elseif ($r.Status -eq 'F') {
        if ($r.Value -eq 1) {
            if ($null -eq $installed) { $installed = $path }
        } elseif ($null -eq $other) {
            $other = $path
        }
    }
}
if ($null -ne $installed) {
    Add-AadcFact 'vcredist.x64_installed' $true
    Add-AadcRegFact 'vcredist.x64_version' $installed 'Version'
} elseif ($null -ne $why) {
    # A view that could not be read may be the one that says installed.
    Add-AadcError 'vcredist.x64_installed' $why
    Add-AadcError 'vcredist.x64_version' $why
} elseif ($null -ne $other) {
    Add-AadcFact 'vcredist.x64_installed' $false
    Add-AadcRegFact 'vcredist.x64_version' $other 'Version'
} else {
    Add-AadcAbsent 'vcredist.x64_installed'
    Add-AadcAbsent 'vcredist.x64_version'
}
