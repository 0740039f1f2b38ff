@{
    RootModule           = 'ProcessKit.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b7f3c1e-8a4d-4f57-9d0e-2c61a9e4b7d3'
    Author               = 'ProcessKit developers'
    Description          = "Python multiprocessing.Process lifecycle for PowerShell: start, name, daemonize, wait, terminate, kill and log child processes."
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('ProcessKit.Format.ps1xml')
    TypesToProcess       = @('ProcessKit.Types.ps1xml')
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
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('process', 'multiprocessing', 'daemon', 'signal', 'Linux', 'macOS')
            ProjectUri = 'https://example.invalid/ProcessKit'
        }
    }
}
