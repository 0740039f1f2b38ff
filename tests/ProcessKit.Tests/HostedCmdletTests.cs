using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Xunit;

namespace ProcessKit.Tests
{
    /// <summary>The cmdlets in an in-process runspace (System.Management.Automation hosting): per-runspace tables and
    /// the runspace-close path, which only a host can exercise.</summary>
    public class HostedCmdletTests
    {
        private static Runspace NewRunspace()
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.ImportPSModule(typeof(ProcessKit.Commands.StartChildProcessCommand).Assembly.Location);
            var rs = RunspaceFactory.CreateRunspace(iss);
            rs.Open();
            return rs;
        }

        private static System.Collections.ObjectModel.Collection<PSObject> Run(Runspace rs, string script)
        {
            using var ps = PowerShell.Create();
            ps.Runspace = rs;
            ps.AddScript(script);
            var result = ps.Invoke();
            if (ps.HadErrors && ps.Streams.Error.Count > 0)
            {
                throw new InvalidOperationException(string.Join("; ", ps.Streams.Error.Select(e => e.ToString())));
            }
            return result;
        }

        private static bool Gone(int pid)
        {
            string stat = $"/proc/{pid}/stat";
            return !File.Exists(stat) || File.ReadAllText(stat).Contains(") Z ");
        }

        [Fact]
        public void EachRunspaceSeesOnlyItsOwnChildren()
        {
            using var a = NewRunspace();
            using var b = NewRunspace();
            try
            {
                Run(a, "Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name inA | Out-Null");
                Assert.Single(Run(a, "Get-ChildProcess"));
                Assert.Empty(Run(b, "Get-ChildProcess"));
                Assert.Equal("Process-1", Run(b, "(Start-ChildProcess -FilePath true).Name").Single().BaseObject);
            }
            finally
            {
                Run(a, "Get-ChildProcess | Stop-ChildProcess -Force");
                Run(b, "Get-ChildProcess | Stop-ChildProcess -Force");
            }
        }

        [Fact]
        public void DisposingTheRunspaceEndsItsDaemonsOnly()
        {
            var rs = NewRunspace();
            var ids = Run(rs, "(Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon).Id; (Start-ChildProcess -FilePath sleep -ArgumentList 300).Id")
                .Select(o => (int)o.BaseObject).ToArray();
            try
            {
                rs.Dispose();
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                while (!Gone(ids[0]) && DateTime.UtcNow < deadline)
                {
                    System.Threading.Thread.Sleep(20);
                }
                Assert.True(Gone(ids[0]), "daemon still running after its runspace was disposed");
                Assert.False(Gone(ids[1]), "non-daemon must outlive its runspace");
            }
            finally
            {
                try { System.Diagnostics.Process.GetProcessById(ids[1]).Kill(); } catch (ArgumentException) { }
            }
        }

        [Fact]
        public void ModuleImportsWithoutWarnings()
        {
            using var rs = NewRunspace();
            var r = Run(rs, "Import-Module '" + typeof(ProcessKit.Commands.StartChildProcessCommand).Assembly.Location + "' -Force -WarningVariable w 3>$null; $w.Count");
            Assert.Equal(0, (int)r.Single().BaseObject);
        }
    }
}
