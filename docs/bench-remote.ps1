#Requires -Version 7.4
<#
.SYNOPSIS
    ProcessKit remote benchmark (issue 12): children and pool workers over loopback ssh, side by side with
    PowerShell remoting over SSH (Invoke-Command -HostName) and plain ssh, in one run.
.DESCRIPTION
    Starts a private sshd on 127.0.0.1 (tests/Pester/SshdFixture.psm1, with the powershell subsystem), measures, stops
    it. Medians of -Repeat runs after one warm-up. Prints a markdown table and writes it to out/bench-remote.md.
    Run after a build: pwsh -NoProfile -File docs/bench-remote.ps1
#>
param([int] $Repeat = 10, [int] $PoolItems = 200)
$ErrorActionPreference = 'Stop'
$modulePath = $env:PROCESSKIT_MODULE_PATH
if (-not $modulePath) { $modulePath = Join-Path $PSScriptRoot '../out/ProcessKit/ProcessKit.psd1' }
Import-Module $modulePath
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/SshdFixture.psm1')

function Get-Median([double[]] $v) { $s = [double[]]($v | Sort-Object); $n = $s.Count; if ($n % 2) { $s[($n - 1) / 2] } else { ($s[$n / 2 - 1] + $s[$n / 2]) / 2 } }
function Measure-Ms([scriptblock] $Block, [int] $N = $Repeat) {
    & $Block | Out-Null
    Get-Median @(1..$N | ForEach-Object { $sw = [Diagnostics.Stopwatch]::StartNew(); & $Block | Out-Null; $sw.Elapsed.TotalMilliseconds })
}

$reason = Install-SshdIfMissing
if ($reason) { Write-Warning $reason; exit 0 }
# The remote pwsh: this same PowerShell (a dotnet tool install has no pwsh on sshd's PATH).
$pwshCmd = if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { @([Environment]::ProcessPath, [Environment]::GetCommandLineArgs()[0]) } else { @([Environment]::ProcessPath) }
$tmp = Join-Path ([IO.Path]::GetTempPath()) ("pk-bench-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory $tmp
$remotePwsh = Join-Path $tmp 'pwsh'
Set-Content $remotePwsh "#!/bin/sh`nexec $(($pwshCmd | ForEach-Object { "'$_'" }) -join ' ') `"`$@`""
& /bin/chmod +x $remotePwsh
$server = Start-TestSshd -Subsystem "$remotePwsh -sshs -NoLogo -NoProfile"
$rows = [System.Collections.Generic.List[object]]::new()
try {
    $ssh = @{ HostName = '127.0.0.1'; Port = $server.Port; KeyFilePath = $server.KeyFile; SSHOption = $server.SshOption }
    $icm = @{ HostName = '127.0.0.1'; Port = $server.Port; KeyFilePath = $server.KeyFile; Options = $server.SshOption }
    $sshArgs = @('-T', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-i', $server.KeyFile, '-p', $server.Port, '127.0.0.1')

    $pk = Measure-Ms { $c = Start-ChildProcess -FilePath true @ssh; $null = $c | Wait-ChildProcess; Remove-ChildProcess $c }
    $raw = Measure-Ms { & ssh @sshArgs true }
    $ic = Measure-Ms { Invoke-Command @icm { } }
    $rows.Add([pscustomobject]@{ Case = 'remote program round trip (ms)'; ProcessKit = $pk; 'ssh host true' = $raw; 'Invoke-Command -HostName' = $ic })

    $pk = Measure-Ms { $c = Start-ChildProcess { 1 } @ssh -RemotePwsh $remotePwsh; $null = $c | Wait-ChildProcess; $null = Receive-ChildProcess $c; Remove-ChildProcess $c } -N ([Math]::Max(3, [int]($Repeat / 2)))
    $ic = Measure-Ms { Invoke-Command @icm { 1 } } -N ([Math]::Max(3, [int]($Repeat / 2)))
    $rows.Add([pscustomobject]@{ Case = 'remote scriptblock round trip (ms)'; ProcessKit = $pk; 'ssh host true' = $null; 'Invoke-Command -HostName' = $ic })

    $pool = New-ChildProcessPool -HostName '127.0.0.1' -Port $server.Port -KeyFilePath $server.KeyFile -SSHOption $server.SshOption -RemotePwsh $remotePwsh -ThrottleLimit 2
    $null = 1..4 | Invoke-ChildProcessPool { $_ } -Pool $pool
    $sw = [Diagnostics.Stopwatch]::StartNew(); $null = 1..$PoolItems | Invoke-ChildProcessPool { $_ * 2 } -Pool $pool; $pkItem = $sw.Elapsed.TotalMilliseconds / $PoolItems
    Remove-ChildProcessPool $pool
    $session = New-PSSession @icm
    try {
        $null = Invoke-Command -Session $session { 1 }
        $n = [Math]::Min($PoolItems, 50)
        $sw = [Diagnostics.Stopwatch]::StartNew(); foreach ($i in 1..$n) { $null = Invoke-Command -Session $session { $args[0] * 2 } -ArgumentList $i }; $icItem = $sw.Elapsed.TotalMilliseconds / $n
    } finally { Remove-PSSession $session }
    $rows.Add([pscustomobject]@{ Case = 'remote pool, per item (ms; 2 workers, warm)'; ProcessKit = $pkItem; 'ssh host true' = $null; 'Invoke-Command -HostName' = $icItem })
} finally {
    Get-ChildProcess | Stop-ChildProcess -Force -ErrorAction SilentlyContinue
    Stop-TestSshd $server
    Remove-Item $tmp -Recurse -Force -ErrorAction SilentlyContinue
}
$fmt = { param($v) if ($null -eq $v) { '' } else { '{0:0.0}' -f $v } }
$lines = @('| case | ProcessKit | ssh host true | Invoke-Command -HostName (PS remoting over SSH) |', '| --- | ---: | ---: | ---: |')
$lines += $rows | ForEach-Object { "| $($_.Case) | $(& $fmt $_.ProcessKit) | $(& $fmt $_.'ssh host true') | $(& $fmt $_.'Invoke-Command -HostName') |" }
$lines | Write-Output
$outDir = Join-Path $PSScriptRoot '../out'
if (Test-Path $outDir) { $lines | Set-Content (Join-Path $outDir 'bench-remote.md') }
