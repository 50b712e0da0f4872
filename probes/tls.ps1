# aadcready probe "tls": the eight registry values Microsoft's
# Get-ADSyncToolsTls12 reads to decide whether TLS 1.2 is enforced.
# Reads:
#   HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319
#   HKLM\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319
#     (SystemDefaultTlsVersions, SchUseStrongCrypto)
#   HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Server
#   HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client
#     (Enabled, DisabledByDefault)
# A missing key or value is reported as absent, apart from a wrong value.
# Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in _prelude.ps1.

$net4 = 'HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319'
$net4wow = 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319'
$tls12 = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2'

Add-AadcRegFact 'tls.net4.system_default_tls_versions' $net4 'SystemDefaultTlsVersions'
Add-AadcRegFact 'tls.net4.sch_use_strong_crypto' $net4 'SchUseStrongCrypto'
Add-AadcRegFact 'tls.net4_wow.system_default_tls_versions' $net4wow 'SystemDefaultTlsVersions'
Add-AadcRegFact 'tls.net4_wow.sch_use_strong_crypto' $net4wow 'SchUseStrongCrypto'
Add-AadcRegFact 'tls.schannel12_server.enabled' ($tls12 + '\Server') 'Enabled'
Add-AadcRegFact 'tls.schannel12_server.disabled_by_default' ($tls12 + '\Server') 'DisabledByDefault'
Add-AadcRegFact 'tls.schannel12_client.enabled' ($tls12 + '\Client') 'Enabled'
Add-AadcRegFact 'tls.schannel12_client.disabled_by_default' ($tls12 + '\Client') 'DisabledByDefault'
