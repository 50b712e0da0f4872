# aadcready probe bundle: prelude.
#
# Defines the helpers the probes use to report what they read. Every fact
# becomes one line starting with "##AADC " (format: docs/probe-protocol.md in
# the aadcready repository). The helpers only read the registry, files, WMI
# and cmdlet output; nothing here or in the probes changes this computer.
#
# Written for Windows PowerShell 2.0 to 5.1, in FullLanguage or
# ConstrainedLanguage mode. ConstrainedLanguage (under WDAC or AppLocker)
# allows method calls, property sets and type literals only on the core types
# of about_Language_Modes: everything else here sits in a branch guarded by
# $AadcFullLanguage, and hashtables are written with index syntax
# ($h['Key'] = ...). test/psgrammar and probes/langmode.go check this.

# Filled in by aadcready when it assembles the bundle: ties the output to the
# exact scripts that produced it.
$AadcBundleId = '@@BUNDLE_ID@@'

# Output lines are collected here and written after each probe by
# Write-AadcOutput. A hashtable, because each probe runs in a child scope: it
# can add to the table but could not replace a variable of this scope.
$AadcOut = @{ Lines = @('##AADC BUNDLE 1 ' + $AadcBundleId) }
$AadcFullLanguage = ([string]$ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage')
# A 32-bit PowerShell on 64-bit Windows (PROCESSOR_ARCHITEW6432 is set only
# there) sees the 32-bit view of HKLM\SOFTWARE: what it reads there is not
# what the 64-bit product uses.
$AadcWow64 = ($null -ne $env:PROCESSOR_ARCHITEW6432)
$AadcWow64Reason = 'not read: this is a 32-bit PowerShell, which sees the 32-bit registry view of HKLM\SOFTWARE'

# ConvertTo-AadcEscaped: the protocol's escaping, pure ASCII out. Printable
# ASCII stands for itself except the backslash (\\); newline, carriage return
# and tab become \n \r \t; any other UTF-16 code unit becomes \uXXXX.
function ConvertTo-AadcEscaped([string]$Text) {
    # -cmatch: a case-insensitive match would let the Kelvin sign through as "k".
    if ($Text -cmatch '^[\x20-\x5B\x5D-\x7E]*\z') { return $Text }
    # Indexing, not .ToCharArray(): no method call, for ConstrainedLanguage.
    $parts = for ($i = 0; $i -lt $Text.Length; $i++) {
        $c = $Text[$i]
        $n = [int]$c
        if ($n -eq 92) { '\\' }
        elseif ($n -eq 10) { '\n' }
        elseif ($n -eq 13) { '\r' }
        elseif ($n -eq 9) { '\t' }
        elseif ($n -ge 32 -and $n -le 126) { [string]$c }
        else { '\u{0:X4}' -f $n }
    }
    return ($parts -join '')
}

function Add-AadcLine([string]$Line) {
    $AadcOut['Lines'] += '##AADC ' + $Line
}

# Add-AadcFact: an F record. Booleans print as true/false. A $null value (the
# source returned nothing) becomes an E record, never a made-up value.
function Add-AadcFact([string]$Key, $Value) {
    if ($null -eq $Value) {
        Add-AadcError $Key 'no value returned'
        return
    }
    if ($Value -is [bool]) {
        if ($Value) { $text = 'true' } else { $text = 'false' }
    } else {
        $text = [string]$Value
    }
    Add-AadcLine ('F ' + $Key + ' ' + (ConvertTo-AadcEscaped $text))
}

# Add-AadcList: one L record per item, or L0 for a known, empty list.
function Add-AadcList([string]$Key, [object[]]$Items) {
    $n = 0
    foreach ($item in $Items) {
        # PowerShell 2.0 runs a foreach once over $null: skip it.
        if ($null -ne $item) {
            Add-AadcLine ('L ' + $Key + ' ' + (ConvertTo-AadcEscaped ([string]$item)))
            $n++
        }
    }
    if ($n -eq 0) { Add-AadcLine ('L0 ' + $Key) }
}

function Add-AadcAbsent([string]$Key) {
    Add-AadcLine ('A ' + $Key)
}

function Add-AadcError([string]$Key, [string]$Reason) {
    Add-AadcLine ('E ' + $Key + ' ' + (ConvertTo-AadcEscaped $Reason))
}

# The Read-Aadc* helpers return a result instead of writing a record, so a
# probe can combine several reads before it reports:
#   @{ Status = 'F'; Value = ... }   read
#   @{ Status = 'A' }                does not exist
#   @{ Status = 'E'; Reason = ... }  could not be read (access denied, ...)

# Add-AadcResult: the record for one result.
function Add-AadcResult([string]$Key, $Result) {
    if ($Result.Status -eq 'F') { Add-AadcFact $Key $Result.Value }
    elseif ($Result.Status -eq 'A') { Add-AadcAbsent $Key }
    else { Add-AadcError $Key $Result.Reason }
}

# Add-AadcProperties: facts from properties of a result's object ($Map: fact
# key = property name); when there is no object, the same A or E for each key.
function Add-AadcProperties($Result, [hashtable]$Map) {
    foreach ($key in $Map.Keys) {
        if ($Result.Status -eq 'F') { Add-AadcFact $key ($Result.Value.($Map[$key])) }
        else { Add-AadcResult $key $Result }
    }
}

# Get-AadcFailure: the result of a read that wrote the error records $Err:
# A when the item does not exist, E with the message otherwise.
function Get-AadcFailure($Err) {
    if ([string]$Err[0].CategoryInfo.Category -eq 'ObjectNotFound') { return @{ Status = 'A' } }
    return @{ Status = 'E'; Reason = [string]$Err[0].Exception.Message }
}

# Test-AadcWow64: the result for a registry path a 32-bit PowerShell must
# not trust (HKLM\SOFTWARE and below, any spelling), else $null.
function Test-AadcWow64([string]$Path) {
    if ($AadcWow64 -and ($Path -like 'HKLM:\SOFTWARE*' -or $Path -like '*::HKEY_LOCAL_MACHINE\SOFTWARE*')) {
        return @{ Status = 'E'; Reason = $AadcWow64Reason }
    }
    return $null
}

# Read-AadcRegValue: one registry value, e.g.
#   Read-AadcRegValue 'HKLM:\SOFTWARE\Microsoft\AD Sync' 'Location'
# A missing key or value is A; a key that cannot be opened is E. Windows
# PowerShell 5.1 throws a terminating "Specified cast is not valid" for the
# whole key when any one of its values is malformed (PowerShell#9552), even
# with -ErrorAction SilentlyContinue: then the value is read again on its
# own, so that only a malformed value itself is lost (E with the message).
function Read-AadcRegValue([string]$Path, [string]$Name) {
    $wow = Test-AadcWow64 $Path
    if ($null -ne $wow) { return $wow }
    $e = $null
    $values = $null
    try {
        $values = Get-ItemProperty -LiteralPath $Path -ErrorAction SilentlyContinue -ErrorVariable e
    } catch {
        $e = $null
        try {
            $values = Get-ItemProperty -LiteralPath $Path -Name $Name -ErrorAction SilentlyContinue -ErrorVariable e
        } catch {
            return @{ Status = 'E'; Reason = [string]$_.Exception.Message }
        }
        if ($null -eq $values) {
            # -Name reports a missing value as an error: tell it from a failure.
            $key = Test-AadcRegKey $Path
            if ($key.Status -eq 'F' -and $key.Value -and $e.Count -gt 0 -and [string]$e[0].Exception.Message -like '*does not exist*') {
                return @{ Status = 'A' }
            }
        }
    }
    if ($e.Count -gt 0) { return (Get-AadcFailure $e) }
    $v = $null
    if ($null -ne $values) { $v = $values.$Name }
    if ($null -eq $v) { return @{ Status = 'A' } }
    # .NET returns a REG_DWORD as a signed Int32; report the unsigned data.
    if ($v -is [int] -and $v -lt 0) { $v = [int64]$v + 4294967296 }
    return @{ Status = 'F'; Value = $v }
}

function Add-AadcRegFact([string]$Key, [string]$Path, [string]$Name) {
    Add-AadcResult $Key (Read-AadcRegValue $Path $Name)
}

# Test-AadcRegKey: whether a registry key exists, as Value $true or $false;
# E when that cannot be told.
function Test-AadcRegKey([string]$Path) {
    $wow = Test-AadcWow64 $Path
    if ($null -ne $wow) { return $wow }
    $e = $null
    try {
        $key = Get-Item -LiteralPath $Path -ErrorAction SilentlyContinue -ErrorVariable e
    } catch {
        return @{ Status = 'E'; Reason = [string]$_.Exception.Message }
    }
    if ($null -ne $key) { return @{ Status = 'F'; Value = $true } }
    $r = Get-AadcFailure $e
    if ($r.Status -eq 'A') { return @{ Status = 'F'; Value = $false } }
    return $r
}

# Read-AadcChildKeys: the subkeys of a registry key as Value (an array),
# A when the key does not exist, E when it cannot be listed. Subkeys that
# could not be opened while the others were listed are in Failed ("path:
# message" each), so that they cost only themselves.
function Read-AadcChildKeys([string]$Path) {
    $wow = Test-AadcWow64 $Path
    if ($null -ne $wow) { return $wow }
    $e = $null
    try {
        $keys = @(Get-ChildItem -LiteralPath $Path -ErrorAction SilentlyContinue -ErrorVariable e)
    } catch {
        return @{ Status = 'E'; Reason = [string]$_.Exception.Message }
    }
    if ($e.Count -gt 0 -and $keys.Count -eq 0) { return (Get-AadcFailure $e) }
    $failed = @()
    # The Count test: PowerShell 2.0 runs a foreach once over $null.
    if ($e.Count -gt 0) {
        foreach ($rec in $e) { $failed += [string]$rec.TargetObject + ': ' + [string]$rec.Exception.Message }
    }
    return @{ Status = 'F'; Value = $keys; Failed = $failed }
}

# Read-AadcCommand: runs a read-only command (a script block literal) and
# returns its first output object; A when it returns nothing (e.g. no WMI
# instance), E when it fails. No [scriptblock] type constraint: that type is
# not allowed in ConstrainedLanguage.
function Read-AadcCommand($Command) {
    # Local to this function: turns the command's errors into the catch below.
    $ErrorActionPreference = 'Stop'
    try {
        $out = @(& $Command)
    } catch {
        return @{ Status = 'E'; Reason = [string]$_.Exception.Message }
    }
    if ($out.Count -eq 0) { return @{ Status = 'A' } }
    return @{ Status = 'F'; Value = $out[0] }
}

# Read-AadcFileVersion: the FileVersion in a file's version resource (what
# Microsoft's MigrateSettings.ps1 reads), through the VersionInfo property
# the FileSystem provider gives every file: a property read, no .NET method
# call of the script's own, so it is allowed in ConstrainedLanguage too.
function Read-AadcFileVersion([string]$Path) {
    $e = $null
    $file = Get-Item -LiteralPath $Path -ErrorAction SilentlyContinue -ErrorVariable e
    if ($null -eq $file) { return (Get-AadcFailure $e) }
    try {
        $v = $file.VersionInfo.FileVersion
    } catch {
        return @{ Status = 'E'; Reason = [string]$_.Exception.Message }
    }
    if (-not $v) { return @{ Status = 'E'; Reason = 'the file has no version information' } }
    return @{ Status = 'F'; Value = $v }
}

# Invoke-AadcProbe: runs one probe in its own scope between BEGIN and END. A
# throw ends the probe with FAIL (the facts it reported before stay valid) and
# the next probe still runs. What a probe writes to the pipeline is dropped.
function Invoke-AadcProbe([string]$Name, $Body) {
    Add-AadcLine ('BEGIN ' + $Name)
    try {
        $null = & $Body
        Add-AadcLine ('END ' + $Name)
    } catch {
        Add-AadcLine ('FAIL ' + $Name + ' ' + (ConvertTo-AadcEscaped ([string]$_.Exception.Message)))
    }
    # Written after each probe, so that a probe that hangs (a stuck WMI
    # provider) and is cut off by the scanner's deadline costs only its own facts.
    Write-AadcOutput
}

# Write-AadcOutput: the lines collected so far as one string, past the
# PowerShell formatter, then forgets them.
# ConstrainedLanguage mode blocks [Console]; there the single string goes
# through Write-Output instead.
function Write-AadcOutput {
    $text = ($AadcOut['Lines'] -join "`r`n") + "`r`n"
    if ($AadcFullLanguage) {
        [Console]::Out.Write($text)
        [Console]::Out.Flush()
    } else {
        Write-Output $text
    }
    $AadcOut['Lines'] = @()
}
