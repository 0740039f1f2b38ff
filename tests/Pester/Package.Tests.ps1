#Requires -Version 7.4
# Install like every module: the built module packed as a .nupkg (what ./build.ps1 Package does: Compress-PSResource),
# found in a folder registered as a repository, saved with Save-PSResource, imported by path and by name in a fresh
# pwsh, and used there to start, wait for and stop a child. The manifest passes Test-ModuleManifest.

Describe 'The package' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force   # Clear-TestProcess uses it
        $ModuleDir = Split-Path $ModulePath
    }
    AfterEach { Clear-TestProcess }

    It 'the manifest passes Test-ModuleManifest, with a license, release notes, a copyright and no placeholder domain' {
        $m = Test-ModuleManifest -Path $ModulePath -ErrorAction Stop
        $m.LicenseUri | Should -Not -BeNullOrEmpty
        $m.ReleaseNotes | Should -Not -BeNullOrEmpty
        $m.Copyright | Should -Not -BeNullOrEmpty
        "$($m.ProjectUri)" | Should -Not -Match '\.invalid|example\.(com|org|net)'
        Test-Path (Join-Path $ModuleDir 'LICENSE') | Should -BeTrue
        Test-Path (Join-Path $ModuleDir 'CHANGELOG.md') | Should -BeTrue
    }

    It 'a .nupkg from a local repository is saved, imported by path and by name in a fresh pwsh, and runs a child' {
        $repo = Join-Path $TestDrive 'repo'
        $saved = Join-Path $TestDrive 'saved'
        $data = Join-Path $TestDrive 'data'   # PSResourceGet keeps its repository list here, not in the user's profile
        $null = New-Item -ItemType Directory -Path $repo, $saved, $data
        Compress-PSResource -Path $ModuleDir -DestinationPath $repo
        $nupkg = @(Get-ChildItem $repo -Filter 'ProcessKit.*.nupkg')
        $nupkg.Count | Should -Be 1

        $script = Join-Path $TestDrive 'install.ps1'
        Set-Content -LiteralPath $script -Value @'
param([string] $Repo, [string] $Saved, [string] $PidFile)
$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name PkLocal -Uri $Repo -Trusted
Save-PSResource -Name ProcessKit -Repository PkLocal -Path $Saved -TrustRepository
$manifest = Get-ChildItem -Path $Saved -Recurse -Filter ProcessKit.psd1 | Select-Object -First 1
Import-Module $manifest.FullName
$p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name installed
Set-Content -LiteralPath $PidFile -Value $p.Id
Stop-ChildProcess installed
Wait-ChildProcess $p -Timeout 30
"by path: $(Get-ChildExitCode $p)"
Remove-Module ProcessKit
$env:PSModulePath = $Saved + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module ProcessKit
"from: $((Get-Module ProcessKit).ModuleBase)"
$q = Start-ChildProcess { 'hello from the installed module' }
"by name: $(Receive-ChildProcess $q -Wait)"
'@
        $pidFile = Join-Path $TestDrive 'pid'
        $log = Join-Path $TestDrive 'install.log'
        $pwsh = @(Get-PwshCommand)
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $script, $repo, $saved, $pidFile)) { $psi.ArgumentList.Add($a) }
        $psi.Environment['XDG_DATA_HOME'] = $data
        $psi.Environment.Remove('PROCESSKIT_MODULE_PATH')
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $proc = [System.Diagnostics.Process]::Start($psi)
        try {
            $stderr = $proc.StandardError.ReadToEndAsync()
            $stdout = $proc.StandardOutput.ReadToEnd()
            $proc.WaitForExit(120000) | Should -BeTrue
            $errors = $stderr.GetAwaiter().GetResult()
        } finally {
            if (-not $proc.HasExited) { $proc.Kill() }
            if (Test-Path $pidFile) { Register-ExtraPid -Id ([int] (Get-Content $pidFile)) }
        }
        $proc.ExitCode | Should -Be 0 -Because "install and use must succeed:`n$stdout`n$errors"
        $stdout | Should -Match 'by path: -15'
        $stdout | Should -Match ([regex]::Escape("from: $saved"))
        $stdout | Should -Match 'by name: hello from the installed module'
        Get-ChildItem -Path $saved -Recurse -Filter 'ProcessKit.dll-Help.xml' | Should -Not -BeNullOrEmpty -Because 'the help ships in the package'
    }
}
