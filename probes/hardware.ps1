# aadcready probe "hardware": memory, processor and system drive size.
# Reads: WMI Win32_ComputerSystem, Win32_Processor and Win32_LogicalDisk (the
#   system drive).
# Changes nothing. The Add-Aadc*/Read-Aadc* helpers are defined in _prelude.ps1.

Add-AadcProperties (Read-AadcCommand { Get-WmiObject -Class Win32_ComputerSystem }) @{
    'hw.memory_bytes'      = 'TotalPhysicalMemory'
    'hw.cpu_logical_count' = 'NumberOfLogicalProcessors'
}
# The first processor; sockets of one server run at the same speed.
Add-AadcProperties (Read-AadcCommand { Get-WmiObject -Class Win32_Processor }) @{
    'hw.cpu_max_mhz' = 'MaxClockSpeed'
}

$drive = $env:SystemDrive
Add-AadcFact 'hw.system_drive' $drive
Add-AadcProperties (Read-AadcCommand { Get-WmiObject -Class Win32_LogicalDisk -Filter ("DeviceID='" + $drive + "'") }) @{
    'hw.system_drive_size_bytes' = 'Size'
    'hw.system_drive_free_bytes' = 'FreeSpace'
}
