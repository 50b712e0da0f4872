# Valid PowerShell 2.0 in the style of the probes: check.mjs --self-test must
# report nothing here.
function Get-Good([string]$Name) {
    $e = $null
    $v = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Ole' -ErrorAction SilentlyContinue -ErrorVariable e
    if ($e.Count -gt 0) { return @{ Status = 'E'; Reason = [string]$e[0].Exception.Message } }
    $parts = foreach ($c in $Name.ToCharArray()) { '\u{0:X4}' -f [int]$c }
    return ($parts -join '')
}
try { $null = & { Get-Good 'x' } } catch { $_.Exception.Message } finally { [Console]::Out.Flush() }
