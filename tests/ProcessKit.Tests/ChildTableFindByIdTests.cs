using System;
using System.Globalization;
using System.IO;
using Xunit;

namespace ProcessKit.Tests
{
    /// <summary>ChildTable.FindById when a pid is reused: forced with ns_last_pid (Linux, root).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public sealed class ChildTableFindByIdTests : IDisposable
    {
        private const string LastPidFile = "/proc/sys/kernel/ns_last_pid";
        /// <summary>Other threads of this process may take the pid between the write and the spawn: retry.</summary>
        private const int ReuseAttempts = 50;
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
        private readonly object _session = new object();
        private readonly ChildTable _table;

        public ChildTableFindByIdTests()
        {
            _table = ChildSupervisor.Default.TableFor(_session, "xunit-findbyid");
        }

        public void Dispose()
        {
            foreach (var c in _table.Children)
            {
                c.Stop(force: true, TimeSpan.Zero);
            }
        }

        private ChildProcess Sh(string script) =>
            ChildSupervisor.Default.Start(_table, null, new SpawnRequest("/bin/sh", new[] { "-c", script }, Path.GetTempPath()));

        /// <summary>A running child on <paramref name="pid"/>, or null when this kernel does not let us choose pids.</summary>
        private ChildProcess? StartOnPid(int pid)
        {
            for (int i = 0; i < ReuseAttempts; i++)
            {
                try
                {
                    File.WriteAllText(LastPidFile, (pid - 1).ToString(CultureInfo.InvariantCulture));
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    return null;
                }
                var child = Sh("exec sleep 300");
                if (child.Id == pid)
                {
                    return child;
                }
                child.Stop(force: true, TimeSpan.Zero);
                Assert.True(child.WaitForExit(Generous));
                Assert.True(ChildSupervisor.Default.Remove(child));
            }
            throw new InvalidOperationException($"pid {pid} was not reused in {ReuseAttempts} attempts");
        }

        [Fact]
        public void RunningChildWinsOverAnExitedOneWithTheSamePidThenTheNewest()
        {
            var old = Sh("exit 3");
            Assert.True(old.WaitForExit(Generous));
            var running = StartOnPid(old.Id);
            if (running is null)
            {
                return; // not root: pids cannot be chosen, and there is nothing to reproduce
            }
            Assert.Same(running, _table.FindById(old.Id));
            running.Stop(force: true, TimeSpan.Zero);
            Assert.True(running.WaitForExit(Generous));
            Assert.Same(running, _table.FindById(old.Id)); // both exited: the newest
        }
    }
}
