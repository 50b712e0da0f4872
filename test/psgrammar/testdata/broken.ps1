# Deliberately broken: check.mjs --self-test must report these.
function Get-Broken([string]$Name {
    if ($Name -eq 'x') {
        'unterminated
    }
$h = @{ a = 1; b = }
