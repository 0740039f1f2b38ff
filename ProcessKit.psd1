@{
    RootModule           = 'ProcessKit.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b7f3c1e-8a4d-4f57-9d0e-2c61a9e4b7d3'
    Author               = 'ProcessKit developers'
    CompanyName          = 'ProcessKit developers'
    Copyright            = '(c) 2026 ProcessKit developers. MIT License.'
    Description          = "Python multiprocessing for PowerShell: start, name, daemonize, wait, terminate, kill, receive and log child processes (scriptblocks or programs), and map work over a pool of worker processes."
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('ProcessKit.Format.ps1xml')
    CmdletsToExport      = @(
        'Start-ChildProcess'
        'Wait-ChildProcess'
        'Stop-ChildProcess'
        'Test-ChildProcess'
        'Get-ChildExitCode'
        'Get-ChildProcess'
        'Remove-ChildProcess'
        'Receive-ChildProcess'
        'Enable-ChildProcessLog'
        'Disable-ChildProcessLog'
        'Get-ChildProcessLog'
        'Invoke-ChildProcessPool'
        'New-ChildProcessPool'
        'Get-ChildProcessPool'
        'Remove-ChildProcessPool'
        'Set-ChildProcessOption'
        'Get-ChildProcessOption'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('process', 'multiprocessing', 'daemon', 'signal', 'pool', 'parallel', 'Linux', 'macOS')
            LicenseUri   = 'https://opensource.org/license/mit'
            # No ProjectUri until the project has a public home: a placeholder would send users nowhere.
            ReleaseNotes = 'First release: child processes with the lifecycle of Python multiprocessing (start, name, daemon, wait, terminate, kill, exit codes, output, logging) and a process pool (Invoke-ChildProcessPool). See CHANGELOG.md in the module folder.'
        }
    }
}
