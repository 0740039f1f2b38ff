#Requires -Version 7.4
# A private sshd on 127.0.0.1 for the remote tests (issue 12): its own config on a free port, a temporary host key and
# user key, the current user allowed by that key only. Never leaves a server running: Stop-TestSshd kills it, and it
# is started with -D as a child of a guard shell that ends it when this test process dies.
# Import with: Import-Module "$PSScriptRoot/SshdFixture.psm1" -Force

Set-StrictMode -Version Latest

function Find-Sshd {
    foreach ($p in '/usr/sbin/sshd', '/usr/local/sbin/sshd', '/sbin/sshd') { if (Test-Path -LiteralPath $p) { return $p } }
    $null
}

function Install-SshdIfMissing {
    <# Debian's openssh-server when sshd or ssh is missing (CI runs as root). Returns $null when ready, else the reason. #>
    if ((Find-Sshd) -and (Get-Command ssh -ErrorAction Ignore) -and (Get-Command ssh-keygen -ErrorAction Ignore)) { return $null }
    if (-not (Get-Command apt-get -ErrorAction Ignore)) { return 'sshd is missing and there is no apt-get to install openssh-server' }
    $log = & /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive; (apt-get install -y -qq openssh-server openssh-client || (apt-get update -qq && apt-get install -y -qq openssh-server openssh-client)) 2>&1'
    if ((Find-Sshd) -and (Get-Command ssh -ErrorAction Ignore)) { return $null }
    "sshd is missing and apt-get install openssh-server failed: $(($log | Select-Object -Last 3) -join ' ')"
}

function Get-FreeTcpPort {
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start()
    try { $l.LocalEndpoint.Port } finally { $l.Stop() }
}

function Start-TestSshd {
    <# Starts the private sshd; returns an object with Port, KeyFile, Dir, SshOption (for -SSHOption), Process. Throws
       with the reason when it cannot. -Subsystem adds `Subsystem powershell <command>` (Invoke-Command -HostName). #>
    param([string] $Subsystem)
    $sshd = Find-Sshd
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ("pk-sshd-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $dir | Out-Null
    & /bin/chmod 700 $dir
    & ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" | Out-Null
    & ssh-keygen -q -t ed25519 -N '' -f "$dir/user_key" | Out-Null
    Copy-Item "$dir/user_key.pub" "$dir/authorized_keys"
    & /bin/chmod 600 "$dir/authorized_keys" "$dir/host_key" "$dir/user_key"
    # Privilege separation needs its empty directory (Debian creates it only when the service runs).
    if (-not (Test-Path /run/sshd)) { New-Item -ItemType Directory -Path /run/sshd -Force | Out-Null; & /bin/chmod 755 /run/sshd }
    $lastError = $null
    for ($try = 0; $try -lt 5; $try++) {
        $port = Get-FreeTcpPort
        @"
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
MaxStartups 100
MaxSessions 100
LogLevel ERROR
$(if ($Subsystem) { "Subsystem powershell $Subsystem" })
"@ | Set-Content -LiteralPath "$dir/sshd_config"
        # -D: stays in the foreground, so the guard shell owns it; the guard ends it when its stdin (this process) is gone.
        $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
        $psi.ArgumentList.Add('-c')
        $psi.ArgumentList.Add("`"$sshd`" -D -e -f `"$dir/sshd_config`" 2>>`"$dir/sshd.log`" & s=`$!; cat >/dev/null; kill `$s 2>/dev/null; wait `$s")
        $psi.RedirectStandardInput = $true
        $psi.UseShellExecute = $false
        $guard = [System.Diagnostics.Process]::Start($psi)
        $server = [pscustomobject]@{
            Port = $port; Dir = $dir; KeyFile = "$dir/user_key"; Guard = $guard; User = [Environment]::UserName
            SshOption = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
        }
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while ([DateTime]::UtcNow -lt $deadline -and -not $guard.HasExited) {
            $out = & ssh -T -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$dir/user_key" -p $port 127.0.0.1 'echo ready' 2>$null
            if ($out -eq 'ready') { return $server }
            Start-Sleep -Milliseconds 200
        }
        $lastError = (Get-Content -LiteralPath "$dir/sshd.log" -ErrorAction Ignore) -join ' '
        Stop-TestSshd $server -KeepDir
    }
    Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction Ignore
    throw "the test sshd did not start: $lastError"
}

function Stop-TestSshd {
    param([Parameter(Position = 0)] $Server, [switch] $KeepDir)
    if ($null -eq $Server) { return }
    try { $Server.Guard.StandardInput.Close() } catch { <# the guard may already be gone: nothing to close #> }
    if (-not $Server.Guard.WaitForExit(5000)) { try { $Server.Guard.Kill($true) } catch { <# it exited meanwhile #> } }
    $pidFile = Join-Path $Server.Dir 'sshd.pid'
    if (Test-Path -LiteralPath $pidFile) {
        $p = [int](Get-Content -LiteralPath $pidFile -Raw)
        & /bin/kill -TERM $p 2>$null
    }
    if (-not $KeepDir) { Remove-Item -LiteralPath $Server.Dir -Recurse -Force -ErrorAction Ignore }
}

Export-ModuleMember -Function Install-SshdIfMissing, Start-TestSshd, Stop-TestSshd, Get-FreeTcpPort
