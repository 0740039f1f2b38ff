using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Threading;
using Xunit;

namespace ProcessKit.Tests
{
    /// <summary>Many runspaces at once starting, stopping, waiting for, testing and receiving the same children: no
    /// deadlock, no lost exit, no zombie, every exit code one the child could have had.</summary>
    public class StressTests
    {
        /// <summary>Children started in all (issue: 2,000 cycles).</summary>
        private const int Cycles = 2000;

        private const int Runspaces = 4;

        /// <summary>A deadlock shows as a worker that never finishes; far above what the run needs on a loaded machine.</summary>
        private static readonly TimeSpan DeadlockBound = TimeSpan.FromMinutes(5);

        /// <summary>The script one cycle runs: start a child in this runspace, then act on a child another runspace
        /// started (the objects are shared through $pool).</summary>
        private const string CycleScript = @"
param($pool, $k, $op, $pick)
$c = Start-ChildProcess -FilePath /bin/sh -ArgumentList '-c', ""echo out$k; echo err$k >&2; exit $k""
$pool.Add($c)
$all = @($pool.ToArray())
$other = $all[$pick % $all.Count]
switch ($op) {
    0 { $null = Wait-ChildProcess -InputObject $other -Timeout 0.05 -ErrorAction SilentlyContinue }
    1 { Stop-ChildProcess -InputObject $other -Force }
    2 { $null = Receive-ChildProcess -InputObject $other -Keep -StandardErrorAsText }
    3 { $null = Test-ChildProcess -InputObject $other }
    4 { Stop-ChildProcess -InputObject $other -GracePeriod 1 }
}
";

        [Fact]
        public void ManyRunspacesDrivingTheSameChildrenNeverDeadlockNorLoseAnExit()
        {
            var pool = new ConcurrentBag<object>();
            var errors = new ConcurrentQueue<string>();
            var runspaces = Enumerable.Range(0, Runspaces).Select(_ => NewRunspace()).ToList();
            try
            {
                var workers = runspaces.Select((rs, index) => new Thread(() => Drive(rs, index, pool, errors)) { IsBackground = true }).ToList();
                workers.ForEach(w => w.Start());
                foreach (var w in workers)
                {
                    Assert.True(w.Join(DeadlockBound), "a runspace did not finish its cycles: deadlock?");
                }
                Assert.Empty(errors);
                var children = pool.Select(o => (ChildProcess)(o is PSObject p ? p.BaseObject : o)).ToList();
                Assert.Equal(Cycles, children.Count);
                foreach (var c in children)
                {
                    Assert.True(c.WaitForExit(TimeSpan.FromSeconds(60)), $"{c.Name} (pid {c.Id}) never reported its exit");
                    Assert.NotEqual(ChildState.Lost, c.State);
                    Assert.True(c.ExitCode is >= 0 and < 5 or -9 or -15, $"{c.Name}: exit code {c.ExitCode}");
                    Assert.False(IsZombieOfOurs(c.Id), $"{c.Name} (pid {c.Id}) was left a zombie");
                }
            }
            finally
            {
                foreach (var rs in runspaces)
                {
                    rs.Dispose();
                }
            }
        }

        private static void Drive(Runspace rs, int index, ConcurrentBag<object> pool, ConcurrentQueue<string> errors)
        {
            var random = new Random(index);
            using var ps = PowerShell.Create();
            ps.Runspace = rs;
            for (int i = 0; i < Cycles / Runspaces; i++)
            {
                ps.Commands.Clear();
                ps.Streams.ClearStreams();
                ps.AddScript(CycleScript).AddArgument(pool).AddArgument(random.Next(5)).AddArgument(random.Next(5)).AddArgument(random.Next(1000));
                try
                {
                    ps.Invoke();
                }
                catch (Exception e)
                {
                    errors.Enqueue($"runspace {index}, cycle {i}: {e.Message}");
                    return;
                }
                foreach (var e in ps.Streams.Error)
                {
                    errors.Enqueue($"runspace {index}, cycle {i}: {e}");
                }
            }
        }

        private static Runspace NewRunspace()
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(typeof(ProcessKit.Commands.StartChildProcessCommand).Assembly.Location);
            var rs = RunspaceFactory.CreateRunspace(iss);
            rs.Open();
            return rs;
        }

        private static bool IsZombieOfOurs(int pid)
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                string[] f = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                return f[0] == "Z" && f[1] == Environment.ProcessId.ToString();
            }
            catch (IOException)
            {
                return false;
            }
        }
    }
}
