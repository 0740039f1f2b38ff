#Requires -Version 7.4
# The capture's bounds and what Receive-ChildProcess does with them: nothing of a scriptblock child is lost (what
# exceeds memory goes to a temporary spill file, deleted on Remove-ChildProcess), memory is counted in real bytes
# (a blank-line flood stays within the bound), a silent child costs little, a line without newline (a prompt) is
# visible, and -Wait streams every child's output as it arrives.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $ModulePath = Get-ProcessKitModulePath
    Import-Module $ModulePath -Force

    $NonPublic = [System.Reflection.BindingFlags]'NonPublic, Public, Instance'
    function Get-Buffer($Child, [string] $Stream = 'StandardOutput') {
        $Child.GetType().GetProperty($Stream, $NonPublic).GetValue($Child)
    }
    function Get-BufferValue($Buffer, [string] $Name) {
        $Buffer.GetType().GetProperty($Name, $NonPublic).GetValue($Buffer)
    }
    function Get-SpillFd {
        # The spill files are unlinked at creation: they show as "(deleted)" links among this process's fds.
        @(Get-ChildItem "/proc/$PID/fd" -ErrorAction SilentlyContinue | ForEach-Object {
                try { [System.IO.File]::ResolveLinkTarget($_.FullName, $false).FullName } catch { $null }
            } | Where-Object { $_ -match 'processkit-\d+-[0-9a-f]+\.spill' })
    }
}

Describe 'Capture: nothing of a scriptblock child is lost' {
    AfterEach { Clear-TestProcess }

    It '100,000 objects all arrive, in order' {
        $p = Start-ChildProcess { 1..100000 | ForEach-Object { [pscustomobject]@{ i = $_; s = 'x' } } }
        $count = 0; $inOrder = $true
        Receive-ChildProcess $p -Wait -WarningVariable wv | ForEach-Object { $count++; if ($_.i -ne $count) { $inOrder = $false } }
        Get-ChildExitCode $p | Should -Be 0
        $count | Should -Be 100000
        $inOrder | Should -BeTrue
        $wv.Count | Should -Be 0
    }

    It 'a 6 MB string and a 300,000-element array (one object each, larger than the memory bound) arrive whole' {
        $s = Start-ChildProcess { 'a' * 6MB }
        $a = Start-ChildProcess { , (1..300000) }
        $str = @(Receive-ChildProcess $s -Wait -WarningVariable wv1)
        $arr = @(Receive-ChildProcess $a -Wait -WarningVariable wv2)
        $str.Count | Should -Be 1
        $str[0].Length | Should -Be 6MB
        $arr.Count | Should -Be 1
        $arr[0].Count | Should -Be 300000
        $arr[0][-1] | Should -Be 300000
        ($wv1.Count + $wv2.Count) | Should -Be 0
    }

    It 'what exceeds memory goes to a spill file that Remove-ChildProcess deletes' {
        # 40 MB of text: 16 MiB stays in memory, the rest is spilled.
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', "head -c 40000000 /dev/zero | tr '\0' x | fold -w 99; echo; echo last"
        Wait-ChildProcess $p -Timeout 120 -ErrorAction Stop
        $null = Wait-Until { (Get-BufferValue (Get-Buffer $p) 'Completed') } -Timeout 30
        $before = Get-SpillFd
        $before.Count | Should -BeGreaterThan 0 -Because 'output beyond the memory bound is spilled to an (unlinked) temp file'
        (Get-BufferValue (Get-Buffer $p) 'MemoryBytes') | Should -BeLessOrEqual ([ProcessKit.OutputBuffer]::DefaultMaxMemoryBytes)
        $kept = 0; Receive-ChildProcess $p -Keep | ForEach-Object { $kept++ }
        $kept | Should -Be (404041 + 1) -Because 'every line is kept (40,000,000 / 99 rounded up, and the last)'
        Remove-ChildProcess $p
        @(Get-SpillFd).Count | Should -Be 0 -Because 'Remove-ChildProcess closes (and so deletes) the spill file'
        @(Get-ChildItem ([System.IO.Path]::GetTempPath()) -Filter "processkit-$PID-*.spill" -ErrorAction SilentlyContinue).Count | Should -Be 0 -Because 'nothing is left in the temp folder'
    }
}

Describe 'Capture: the memory bound is real bytes' {
    AfterEach { Clear-TestProcess }

    It 'a flood of 5 million empty lines keeps the buffer within its documented bytes bound, and all lines are received' {
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $heapBefore = [GC]::GetTotalMemory($true)
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', "yes '' | head -n 5000000"
        Wait-ChildProcess $p -Timeout 120 -ErrorAction Stop
        $buffer = Get-Buffer $p
        $null = Wait-Until { (Get-BufferValue $buffer 'Completed') } -Timeout 30
        $bound = 16MB # OutputBuffer.DefaultMaxMemoryBytes, as README states it
        $heapAfter = [GC]::GetTotalMemory($true)
        ($heapAfter - $heapBefore) | Should -BeLessThan ($bound + 16MB) -Because "the session's heap grows by the bound at most (grew $([math]::Round(($heapAfter - $heapBefore) / 1MB)) MB)"
        [ProcessKit.OutputBuffer]::DefaultMaxMemoryBytes | Should -Be $bound
        (Get-BufferValue $buffer 'MemoryBytes') | Should -BeLessOrEqual $bound
        $count = 0; Receive-ChildProcess $p | ForEach-Object { $count++ }
        $count | Should -Be 5000000
        (Get-BufferValue $buffer 'MemoryBytes') | Should -Be 0 -Because 'a consuming read gives the memory back'
    }

    It 'a silent child costs the session less than 12 KiB of managed heap (buffers are allocated on first output)' {
        # Measured: ~6.5 KB per silent child with lazy buffers (of which the two buffers are ~0.7 KB), ~32 KB before.
        $warm = Start-ChildProcess -FilePath true; $null = Wait-ChildProcess $warm -Timeout 60; Remove-ChildProcess $warm
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $before = [GC]::GetTotalMemory($true)
        $children = @(1..100 | ForEach-Object { Start-ChildProcess -FilePath true })
        Wait-ChildProcess $children -Timeout 60 -ErrorAction Stop
        $null = Wait-Until { @($children | Where-Object { -not (Get-BufferValue (Get-Buffer $_) 'Completed') }).Count -eq 0 } -Timeout 30
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $perChild = ([GC]::GetTotalMemory($true) - $before) / $children.Count
        $perChild | Should -BeLessThan 12KB -Because "a silent child costs $([math]::Round($perChild)) bytes"
    }
}

Describe 'Capture: a line without newline' {
    AfterEach { Clear-TestProcess }

    It 'a prompt without newline is returned by Receive while the child runs; the rest of the line arrives as its own line, with no empty line' {
        $go = Join-Path $TestDrive 'go'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'printf "Name: "; while [ ! -e "$1" ]; do sleep 0.05; done; echo rest', 'sh', $go
        $got = [System.Collections.Generic.List[object]]::new()
        Wait-Until { foreach ($o in @(Receive-ChildProcess $p)) { $got.Add($o) }; $got.Count -gt 0 } -Timeout 30 | Should -BeTrue -Because 'the partial line is visible while the child runs'
        @($got) | Should -Be @('Name: ')
        $p.IsAlive | Should -BeTrue
        New-Item -ItemType File -Path $go | Out-Null
        @(Receive-ChildProcess $p -Wait) | Should -Be @('rest')
    }

    It '-Wait shows a prompt without newline while the child waits' {
        $go = Join-Path $TestDrive 'go2'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'printf "Password: "; i=0; while [ ! -e "$1" ] && [ $i -lt 400 ]; do i=$((i+1)); sleep 0.05; done; echo', 'sh', $go
        $first = @(Receive-ChildProcess $p -Wait | Select-Object -First 1)
        $first | Should -Be @('Password: ')
        $p.IsAlive | Should -BeTrue -Because 'the prompt arrived before the child went on'
        New-Item -ItemType File -Path $go | Out-Null
        @(Receive-ChildProcess $p -Wait) | Should -Be @() -Because 'only the newline followed: no spurious empty line'
    }

    It 'a 3,000,000-character line comes back as one string; a 10,000,000-character one in pieces of 4,194,304' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', "head -c 3000000 /dev/zero | tr '\0' x; echo; head -c 10000000 /dev/zero | tr '\0' y; echo"
        $lines = @(Receive-ChildProcess $p -Wait)
        $lines.Count | Should -Be 4
        $lines[0].Length | Should -Be 3000000
        $lines[0].Trim('x') | Should -BeNullOrEmpty
        @($lines[1..3] | ForEach-Object Length) | Should -Be @(4194304, 4194304, 1611392)
        ($lines[1..3] -join '').Trim('y') | Should -BeNullOrEmpty
    }
}

Describe 'Receive-ChildProcess -Wait streams' {
    AfterEach { Clear-TestProcess }

    It '-Wait | Select-Object -First 3 on a long-running child returns the first three lines and leaves it running' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo "n$i"; sleep 0.1; done'
        $out = @(Receive-ChildProcess $p -Wait | Select-Object -First 3)
        $out | Should -Be @('n1', 'n2', 'n3')
        $p.IsAlive | Should -BeTrue -Because 'the receive returned as soon as three lines arrived'
    }

    It 'two children stream side by side: lines of both arrive before either exits' {
        $a = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo a1; sleep 0.2; echo a2; sleep 60'
        $b = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo b1; sleep 0.2; echo b2; sleep 60'
        $out = @(Receive-ChildProcess $a, $b -Wait | Select-Object -First 4)
        @($out | Sort-Object) | Should -Be @('a1', 'a2', 'b1', 'b2')
        Test-ChildProcess $a, $b | Should -Be @($true, $true) -Because 'the output of both arrived while both were running'
    }

    It 'pipeline input streams too (children gathered across records)' {
        $a = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo p1; sleep 60'
        $b = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo q1; sleep 60'
        $out = @($a, $b | Receive-ChildProcess -Wait | Select-Object -First 2)
        @($out | Sort-Object) | Should -Be @('p1', 'q1')
        Test-ChildProcess $a, $b | Should -Be @($true, $true)
    }
}
