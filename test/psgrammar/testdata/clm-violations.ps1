# Planted ConstrainedLanguage violations for the language-mode checkers'
# self-tests (test/psgrammar/check.mjs --self-test, probes TestCheckConstrainedPlanted).
# Every line that ends in an "expect:" comment naming rules must give exactly
# those findings; every other line none. The guarded block at the end holds the same
# constructs and must give nothing.

# The old bootstrap: [scriptblock] is not an allowed type, Create is a
# method on it, and & runs what it built from text.
$s = @($input) -join "`n"; & ([scriptblock]::Create($s)) # expect: invoke-text,type,method
[Console]::Out.Write('x') # expect: type,method
$wc = New-Object System.Net.WebClient # expect: new-object
$sh = New-Object -ComObject WScript.Shell # expect: new-object
Add-Type -TypeDefinition 'public class X {}' # expect: add-type
$file = Get-Item -LiteralPath 'C:\Windows\notepad.exe'
$file.IsReadOnly = $true # expect: property-set
$file.Refresh() # expect: method
$v = [Diagnostics.FileVersionInfo]::GetVersionInfo('C:\x.exe') # expect: type,method
. ($ExecutionContext.InvokeCommand.NewScriptBlock('Get-Date')) # expect: invoke-text,method
$text = [System.IO.File]::ReadAllText('C:\x.txt') # expect: type,method
$file.Directory.Attributes = 'Hidden' # expect: property-set
$sb2 = [System.Text.StringBuilder]$text # expect: type
$len = $file.FullName.ToUpper().Length # expect: method

# Allowed: core types, string receivers, casts to core types, property reads,
# hashtable index syntax, cmdlets, Invoke-Expression, script block literals.
$h = @{ Lines = @() }
$h['Lines'] += 'a'
$n = [int64]'5' + [int]$h['Lines'].Count
$t = ([string]$file.FullName).ToUpper()
$u = 'abc'.ToUpper()
$r = [regex]::Escape('a.b')
$o = New-Object -TypeName System.Version -ArgumentList 1, 2
$d = New-Object -ComObject Scripting.Dictionary
$mode = $ExecutionContext.SessionState.LanguageMode
Invoke-Expression $s
$sb = { Get-Date }
& $sb
$p = [int]::Parse('5') + [string]::Join(',', @('a', 'b')).Length
$v = $file.VersionInfo.FileVersion
# [Console]::Out.Write('only in a comment')
<# [scriptblock]::Create('only in a block comment') #>
$q = '[Console]::Out.Write(''only in a string'')'
$here = @'
Add-Type -TypeDefinition 'only in a here-string'
'@

if ($ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage') {
    & ([scriptblock]::Create($s))
    [Console]::Out.Write('x')
    $wc = New-Object System.Net.WebClient
    Add-Type -TypeDefinition 'public class X {}'
    $file.IsReadOnly = $true
} elseif ($AadcFullLanguage) {
    [Console]::Out.Flush()
} else {
    $mode = 'constrained'
}
