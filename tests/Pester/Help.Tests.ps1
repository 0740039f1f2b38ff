#Requires -Version 7.4
# Get-Help: every exported cmdlet has MAML help (en-US/ProcessKit.dll-Help.xml) with a real synopsis, examples,
# and a description for every parameter, whose required/position/pipeline/wildcard facts match the code; SYNTAX shows
# exactly the cmdlet's parameter sets. The MAML is the source of the text; these tests hold it to the code.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Import-Module (Get-ProcessKitModulePath) -Force
    $Cmdlets = @(Get-Command -Module ProcessKit -CommandType Cmdlet | Sort-Object Name | ForEach-Object { @{ Cmdlet = $_.Name } })
}

Describe 'ProcessKit help' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
        $HelpFile = Join-Path (Split-Path $ModulePath) 'en-US/ProcessKit.dll-Help.xml'
        # Parameters every cmdlet gets from PowerShell; their help is PowerShell's, not ours.
        $Skipped = [System.Management.Automation.PSCmdlet]::CommonParameters + @('WhatIf', 'Confirm')
    }

    It 'the built module ships en-US/ProcessKit.dll-Help.xml, valid MAML with one entry per exported cmdlet' {
        Test-Path -LiteralPath $HelpFile | Should -BeTrue -Because 'build.ps1 Build copies src/ProcessKit/en-US'
        $xml = [xml] (Get-Content -Raw -LiteralPath $HelpFile)
        $xml.helpItems.schema | Should -Be 'maml'
        $documented = @($xml.helpItems.command.details.name | ForEach-Object Trim | Sort-Object)
        $exported = @(Get-Command -Module ProcessKit -CommandType Cmdlet | ForEach-Object Name | Sort-Object)
        $documented | Should -Be $exported
    }

    Context '<Cmdlet>' -ForEach $Cmdlets {
        BeforeAll {
            $Command = Get-Command $Cmdlet -Module ProcessKit
            $Help = Get-Help $Cmdlet -Full
            $Parameters = @($Command.Parameters.Values | Where-Object Name -NotIn $Skipped)
        }

        It 'has a synopsis of its own, not the generated syntax' {
            $synopsis = "$($Help.Synopsis)".Trim()
            $synopsis | Should -Not -BeNullOrEmpty
            $synopsis | Should -Not -BeLike "$Cmdlet*" -Because 'Get-Help falls back to the syntax when no help is found'
            $synopsis | Should -Not -Match '<CommonParameters>'
        }

        It 'has a description' {
            ($Help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }

        It 'has at least one example with code' {
            $examples = @($Help.examples.example)
            $examples.Count | Should -BeGreaterThan 0
            foreach ($example in $examples) { "$($example.code)".Trim() | Should -Not -BeNullOrEmpty }
        }

        It 'describes every parameter' {
            $undocumented = foreach ($p in $Parameters) {
                $ph = Get-Help $Cmdlet -Parameter $p.Name -ErrorAction SilentlyContinue
                if (-not $ph -or -not ((@($ph)[0].description.Text -join '').Trim())) { $p.Name }
            }
            @($undocumented) | Should -BeNullOrEmpty -Because "every parameter of $Cmdlet needs a description in the help"
        }

        It 'documents no parameter the cmdlet does not have' {
            $documented = @($Help.parameters.parameter | Where-Object { $_ } | ForEach-Object name)
            $stale = $documented | Where-Object { -not $Command.Parameters.ContainsKey($_) }
            @($stale) | Should -BeNullOrEmpty
        }

        It 'shows in SYNTAX exactly the parameter sets the cmdlet has, each with its parameters, required and position' {
            # One line per form: "Name:required:position" for each parameter, sorted; the help's forms and the
            # cmdlet's parameter sets must be the same multiset (no -Name / -Id forms that do not exist).
            $describe = {
                param($parameters)
                (@($parameters | Where-Object Name -NotIn $Skipped | ForEach-Object { $_ } | Sort-Object Name) -join ' ')
            }
            $code = @(foreach ($set in $Command.ParameterSets) {
                & $describe @($set.Parameters | ForEach-Object {
                    $pos = if ($_.Position -eq [int]::MinValue) { 'named' } else { "$($_.Position)" }
                    [pscustomobject]@{ Name = $_.Name; Text = "$($_.Name):$("$($_.IsMandatory)".ToLowerInvariant()):$pos" }
                } | ForEach-Object { $_ | Add-Member -Force -MemberType ScriptMethod -Name ToString -Value { $this.Text } -PassThru })
            }) | Sort-Object
            $help = @(foreach ($item in @($Help.syntax.syntaxItem)) {
                & $describe @(@($item.parameter) | Where-Object { $_ } | ForEach-Object {
                    [pscustomobject]@{ Name = $_.name; Text = "$($_.name):$($_.required):$($_.position)" }
                } | ForEach-Object { $_ | Add-Member -Force -MemberType ScriptMethod -Name ToString -Value { $this.Text } -PassThru })
            }) | Sort-Object
            $help | Should -Be $code
        }

        It 'states required, position, pipeline input and wildcards as the code declares them' {
            $wrong = foreach ($p in $Parameters) {
                $ph = @(Get-Help $Cmdlet -Parameter $p.Name -ErrorAction SilentlyContinue)[0]
                if (-not $ph) { continue }   # reported by 'describes every parameter'
                $sets = @($p.ParameterSets.Values)

                $mandatory = @($sets.IsMandatory | Select-Object -Unique)
                if ($mandatory.Count -eq 1 -and "$($ph.required)" -ne "$($mandatory[0])".ToLowerInvariant()) {
                    "$($p.Name): required is '$($ph.required)', the code says $($mandatory[0])"
                }

                $positions = @($sets.Position | Select-Object -Unique)
                if ($positions.Count -eq 1) {
                    $expected = if ($positions[0] -eq [int]::MinValue) { 'named' } else { "$($positions[0])" }
                    if ("$($ph.position)" -ne $expected) { "$($p.Name): position is '$($ph.position)', the code says $expected" }
                }

                $byValue = [bool] ($sets | Where-Object ValueFromPipeline)
                $byName = [bool] ($sets | Where-Object ValueFromPipelineByPropertyName)
                $pipeline = "$($ph.pipelineInput)"
                if (($pipeline -match 'ByValue') -ne $byValue -or ($pipeline -match 'ByPropertyName') -ne $byName -or
                    (($pipeline -match '^\s*True') -ne ($byValue -or $byName))) {
                    "$($p.Name): pipeline input is '$pipeline', the code says ByValue=$byValue ByPropertyName=$byName"
                }

                $wildcards = [bool] ($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                if ("$($ph.globbing)" -ne "$wildcards".ToLowerInvariant()) {
                    "$($p.Name): wildcards is '$($ph.globbing)', the code says $wildcards"
                }
            }
            @($wrong) | Should -BeNullOrEmpty
        }
    }
}
