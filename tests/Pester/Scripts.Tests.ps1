#Requires -Version 7.4
# The repository's own scripts keep the usual analyzer rules (PSScriptAnalyzer is not available here, so the two
# that matter are checked on the AST): no empty catch block without a comment saying why, and Write-Host only in
# scripts whose output is for a person (build.ps1, docs/, test diagnostics), never in the module's own scripts.

BeforeDiscovery {
    $Root = (Resolve-Path "$PSScriptRoot/../..").Path
    $Scripts = @(Get-ChildItem -Path $Root -Recurse -File -Include *.ps1, *.psm1 |
        Where-Object { $_.FullName -notmatch '[\\/](out|bin|obj|\.git)[\\/]' } |
        ForEach-Object { @{ Path = $_.FullName; Name = [IO.Path]::GetRelativePath($Root, $_.FullName) } })
}

Describe 'Repository scripts' {
    It '<Name> parses and has no empty catch block without a comment' -ForEach $Scripts {
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref] $tokens, [ref] $errors)
        @($errors).Count | Should -Be 0
        $silent = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CatchClauseAst] }, $true) |
            Where-Object { $_.Body.Statements.Count -eq 0 -and $_.Body.Extent.Text -notmatch '#' } |
            ForEach-Object { "line $($_.Extent.StartLineNumber)" })
        $silent | Should -BeNullOrEmpty -Because 'an error swallowed on purpose says why'
    }

    It '<Name> writes to the host only if it is for a person' -ForEach ($Scripts | Where-Object { $_.Name -like 'src*' }) {
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref] $null, [ref] $null)
        $hostWrites = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] -and $n.GetCommandName() -eq 'Write-Host' }, $true))
        $hostWrites | Should -BeNullOrEmpty -Because 'the module''s own scripts write objects and records, not text to the host'
    }
}
