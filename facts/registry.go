package facts

// Registry lists every fact the probes report, grouped by the probe that
// reports it. docs/facts.md is generated from it (go test ./facts -update).
// Registry paths and meanings come from ../shared/reference/aadc-requirements.md.
var Registry = []Def{
	// probe os: Win32_OperatingSystem, Win32_ComputerSystem and
	// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion.
	{"host.name", "os", String, "computer name (Win32_ComputerSystem.Name)"},
	{"os.caption", "os", String, "Win32_OperatingSystem.Caption, e.g. Microsoft Windows Server 2019 Standard"},
	{"os.version", "os", String, "Win32_OperatingSystem.Version, e.g. 10.0.17763"},
	{"os.build", "os", Int, "CurrentBuildNumber: 14393 = 2016, 17763 = 2019, 20348 = 2022, 26100 = 2025"},
	{"os.ubr", "os", Int, "update build revision (CurrentVersion UBR)"},
	{"os.installation_type", "os", String, "CurrentVersion InstallationType: Server, Server Core, Client"},
	{"os.edition_id", "os", String, "CurrentVersion EditionID, e.g. ServerStandard, ServerDatacenter, ServerEssentials"},
	{"os.product_type", "os", String, "ProductOptions ProductType: WinNT, ServerNT, LanmanNT (domain controller)"},
	{"domain.part_of_domain", "os", Bool, "Win32_ComputerSystem.PartOfDomain"},
	{"domain.name", "os", String, "Win32_ComputerSystem.Domain"},
	{"domain.role", "os", Int, "Win32_ComputerSystem.DomainRole: 0-3 workstation/server, 4-5 domain controller"},
	{"dcom.ole_restrictions_present", "os", Bool, "HKLM\\Software\\Microsoft\\Ole has MachineAccessRestriction, MachineLaunchRestriction and DefaultLaunchPermission"},

	// probe powershell
	{"ps.version", "powershell", String, "$PSVersionTable.PSVersion of the probing session"},
	{"ps.clr_version", "powershell", String, "$PSVersionTable.CLRVersion"},
	{"ps.language_mode", "powershell", String, "$ExecutionContext.SessionState.LanguageMode: FullLanguage, ConstrainedLanguage, ..."},
	{"ps.process_arch", "powershell", String, "PROCESSOR_ARCHITECTURE of the probing process (AMD64); 'x86 on AMD64' for a 32-bit PowerShell, whose HKLM\\SOFTWARE facts are then unknown"},
	{"ps.execution_policy", "powershell", String, "effective execution policy (Get-ExecutionPolicy): the scan account's, including its CurrentUser scope"},
	{"ps.execution_policy_machine_policy", "powershell", String, "Get-ExecutionPolicy -Scope MachinePolicy (computer group policy); Undefined when not set"},
	{"ps.execution_policy_user_policy", "powershell", String, "Get-ExecutionPolicy -Scope UserPolicy (user group policy of the scan account)"},
	{"ps.execution_policy_local_machine", "powershell", String, "Get-ExecutionPolicy -Scope LocalMachine"},
	{"ps.execution_policy_machine", "powershell", String, "the machine's policy: MachinePolicy unless Undefined, else LocalMachine (Undefined = the Windows default)"},
	{"ps.execution_policy_gpo", "powershell", String, "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell ExecutionPolicy (group policy)"},
	{"ps.script_block_logging", "powershell", Bool, "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\ScriptBlockLogging EnableScriptBlockLogging = 1: event 4104 records the bundle's text (docs/probes.md)"},
	{"ps.transcription_enabled", "powershell", Bool, "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\Transcription EnableTranscripting = 1"},

	// probe dotnet
	{"dotnet.release", "dotnet", Int, "HKLM\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full Release; absent = below 4.5"},

	// probe tls: the eight values Get-ADSyncToolsTls12 reads.
	{"tls.net4.system_default_tls_versions", "tls", Int, "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319 SystemDefaultTlsVersions (want 1)"},
	{"tls.net4.sch_use_strong_crypto", "tls", Int, "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319 SchUseStrongCrypto (want 1)"},
	{"tls.net4_wow.system_default_tls_versions", "tls", Int, "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319 SystemDefaultTlsVersions (want 1)"},
	{"tls.net4_wow.sch_use_strong_crypto", "tls", Int, "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319 SchUseStrongCrypto (want 1)"},
	{"tls.schannel12_server.enabled", "tls", Int, "SCHANNEL\\Protocols\\TLS 1.2\\Server Enabled (want 1)"},
	{"tls.schannel12_server.disabled_by_default", "tls", Int, "SCHANNEL\\Protocols\\TLS 1.2\\Server DisabledByDefault (want 0)"},
	{"tls.schannel12_client.enabled", "tls", Int, "SCHANNEL\\Protocols\\TLS 1.2\\Client Enabled (want 1)"},
	{"tls.schannel12_client.disabled_by_default", "tls", Int, "SCHANNEL\\Protocols\\TLS 1.2\\Client DisabledByDefault (want 0)"},

	// probe vcredist
	{"vcredist.x64_installed", "vcredist", Bool, "HKLM\\SOFTWARE\\Microsoft\\VisualStudio\\14.0\\VC\\Runtimes\\x64 Installed = 1 (or the WOW6432Node copy)"},
	{"vcredist.x64_version", "vcredist", String, "the same key's Version, e.g. v14.38.33135.00"},

	// probe aadconnect: the installed product, read from the registry and files only.
	{"aadc.wizard_path", "aadconnect", String, "HKLM\\SOFTWARE\\Microsoft\\Azure AD Connect WizardPath"},
	{"aadc.wizard_version", "aadconnect", String, "file version of the WizardPath executable (what MigrateSettings.ps1 reads)"},
	{"aadc.uninstall_entries", "aadconnect", List, "Uninstall entries (both registry views) whose DisplayName matches Azure AD Connect / Microsoft Entra Connect, as 'DisplayName|DisplayVersion'"},
	{"aadc.uninstall_unreadable", "aadconnect", List, "Uninstall entries that could not be read (key name: error); aadc.uninstall_entries then lists only the entries that could"},
	{"adsync.install_location", "aadconnect", String, "HKLM\\SOFTWARE\\Microsoft\\AD Sync Location"},
	{"adsync.service_state", "aadconnect", String, "state of the ADSync service (Running, Stopped, ...); absent when there is no such service"},
	{"adsync.service_start_mode", "aadconnect", String, "start mode of the ADSync service (Auto, Manual, Disabled)"},
	{"adsync.service_source", "aadconnect", String, "where the service facts come from: wmi (Win32_Service), or registry (Services\\ADSync Start) when WMI does not list a service whose key exists"},
	{"adsync.service_account", "aadconnect", String, "HKLM\\SYSTEM\\CurrentControlSet\\Services\\ADSync ObjectName"},
	{"adsync.db_server", "aadconnect", String, "Services\\ADSync\\Parameters Server; (localdb) means LocalDB"},
	{"adsync.db_instance", "aadconnect", String, "Services\\ADSync\\Parameters SQLInstance: ADSync (V1), ADSync2019 (V2), other = external SQL"},
	{"adsync.db_name", "aadconnect", String, "Services\\ADSync\\Parameters DBName"},
	{"localdb.installed_versions", "aadconnect", List, "subkeys of HKLM\\SOFTWARE\\Microsoft\\Microsoft SQL Server Local DB\\Installed Versions (11.0, 15.0, 16.0)"},
	{"localdb.mdf_path", "aadconnect", String, "path of the ADSync LocalDB database file that was found"},
	{"localdb.mdf_bytes", "aadconnect", Int, "size of that file in bytes"},

	// probe adsync: the ADSync module's cmdlets (need ADSyncAdmins or local administrators).
	{"adsync.staging_mode", "adsync", Bool, "Get-ADSyncScheduler StagingModeEnabled"},
	{"adsync.sync_cycle_enabled", "adsync", Bool, "Get-ADSyncScheduler SyncCycleEnabled"},
	{"adsync.scheduler_suspended", "adsync", Bool, "Get-ADSyncScheduler SchedulerSuspended"},
	{"adsync.auto_upgrade", "adsync", String, "Get-ADSyncAutoUpgrade: Enabled, Suspended, Disabled"},
	{"adsync.connector_identity_type", "adsync", String, "Get-ADSyncEntraConnectorCredential ConnectorIdentityType: Application or ServiceAccount"},

	// probe syncstate: whether the sync still runs and whether the switch to
	// application identity will hold (scheduler, certificate rotation, TPM).
	{"autoupgrade.detail", "syncstate", String, "Get-ADSyncAutoUpgrade -Detail: the state with its reason, e.g. Suspended (UpgradeNotSupportedTLSVersionIncorrect)"},
	{"certrot.warning_events", "syncstate", Int, "Application log events 1011 (application certificate expires within 150 days) in the last 30 days (at most 50 read)"},
	{"certrot.error_events", "syncstate", Int, "Application log events 1012 (application certificate expired) in the last 30 days (at most 50 read)"},
	{"tpm.present", "syncstate", Bool, "Get-Tpm TpmPresent"},
	{"tpm.ready", "syncstate", Bool, "Get-Tpm TpmReady"},
	{"sync.entra_connector", "syncstate", String, "name of the Microsoft Entra ID connector (Get-ADSyncConnector, type Extensible2 with the AAD connector's identifier)"},
	{"sync.last_runs", "syncstate", List, "the newest run per connector from Get-ADSyncRunProfileResult (at most 200 read), as 'connector|run profile|result|end UTC'"},
	{"sync.running", "syncstate", List, "connectors running now (Get-ADSyncConnectorRunStatus)"},
	{"sync.last_export_utc", "syncstate", String, "end of the newest successful export run to the Entra ID connector (UTC, ISO 8601); absent: none in the run history read"},
	{"sync.last_export_age_hours", "syncstate", Int, "hours from that export to the host's clock at scan time; absent: none in the run history read"},

	// probe hardware
	{"hw.memory_bytes", "hardware", Int, "Win32_ComputerSystem.TotalPhysicalMemory"},
	{"hw.cpu_max_mhz", "hardware", Int, "Win32_Processor.MaxClockSpeed (first processor)"},
	{"hw.cpu_logical_count", "hardware", Int, "Win32_ComputerSystem.NumberOfLogicalProcessors"},
	{"hw.system_drive", "hardware", String, "the system drive, e.g. C:"},
	{"hw.system_drive_size_bytes", "hardware", Int, "Win32_LogicalDisk.Size of the system drive"},
	{"hw.system_drive_free_bytes", "hardware", Int, "Win32_LogicalDisk.FreeSpace of the system drive"},

	// probe reboot
	{"reboot.cbs_reboot_pending", "reboot", Bool, "Component Based Servicing\\RebootPending key exists"},
	{"reboot.wu_reboot_required", "reboot", Bool, "WindowsUpdate\\Auto Update\\RebootRequired key exists"},
	{"reboot.netlogon_join_domain", "reboot", Bool, "Services\\Netlogon JoinDomain value exists (a domain join waits for a restart)"},
	{"reboot.netlogon_avoid_spn_set", "reboot", Bool, "Services\\Netlogon AvoidSpnSet value exists"},
	{"reboot.computer_rename_pending", "reboot", Bool, "ComputerName\\ComputerName differs from ActiveComputerName"},
	{"reboot.pending", "reboot", Bool, "any of the markers above is set (PendingFileRenameOperations is not counted)"},
	{"reboot.reasons", "reboot", List, "which of those markers: CBS RebootPending, WindowsUpdate RebootRequired, Netlogon JoinDomain, Netlogon AvoidSpnSet, computer rename"},
	{"reboot.file_rename_pending", "reboot", Bool, "Session Manager PendingFileRenameOperations is not empty (information: antivirus and agents keep it set)"},
}
