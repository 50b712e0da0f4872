# aadcready probe "dotnet": the installed .NET Framework 4.x release.
# Reads: HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full (Release).
# No such key or value means .NET Framework 4.5 or later is not installed.
# Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in _prelude.ps1.

Add-AadcRegFact 'dotnet.release' 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' 'Release'
