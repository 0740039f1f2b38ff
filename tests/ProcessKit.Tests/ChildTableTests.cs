using System;
using System.Collections.Generic;
using System.IO;
using Xunit;

namespace ProcessKit.Tests
{
    /// <summary>The core driven directly on this machine's platform: real processes, no PowerShell.</summary>
    public sealed class ChildTableTests : IDisposable
    {
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
        private readonly ChildSupervisor _sup = ChildSupervisor.Default;
        private readonly object _session = new object();
        private readonly object _otherSession = new object();
        private readonly ChildTable _table;

        public ChildTableTests()
        {
            _table = _sup.TableFor(_session, "xunit");
        }

        public void Dispose()
        {
            foreach (var c in _table.Children)
            {
                c.Stop(force: true, TimeSpan.Zero);
            }
        }

        private ChildProcess Sh(string script, string? name = null, bool daemon = false)
        {
            var request = new SpawnRequest("/bin/sh", new[] { "-c", script }, Path.GetTempPath()) { Daemon = daemon };
            return _sup.Start(_table, name, request);
        }

        [Fact]
        public void ExitCodeOfAProgramIsItsStatus()
        {
            var c = Sh("exit 137");
            Assert.True(c.WaitForExit(Generous));
            Assert.Equal(137, c.ExitCode);
            Assert.Equal(ChildState.Failed, c.State);
            Assert.NotNull(c.ExitTime);
        }

        [Fact]
        public void SignalDeathIsNegativeSignalNumber()
        {
            var c = Sh("kill -KILL $$");
            Assert.True(c.WaitForExit(Generous));
            Assert.Equal(-9, c.ExitCode);
            Assert.Equal(ChildState.Stopped, c.State);
        }

        [Fact]
        public void TerminateGivesMinus15AndKillMinus9()
        {
            var t = Sh("sleep 300");
            var k = Sh("sleep 300");
            Assert.True(t.IsAlive);
            Assert.Null(t.ExitCode);
            t.Stop(force: false, TimeSpan.FromSeconds(30));
            k.Stop(force: true, TimeSpan.Zero);
            Assert.Equal(-15, t.ExitCode);
            Assert.Equal(-9, k.ExitCode);
        }

        [Fact]
        public void GracePeriodEscalatesToKillWhenTermIsIgnored()
        {
            var c = Sh("trap '' TERM; echo ready; while :; do sleep 0.1; done");
            // wait until the trap is installed (the echo comes after it)
            var deadline = DateTime.UtcNow + Generous;
            while (c.StandardOutput.Read(keep: true, out _).Count == 0 && DateTime.UtcNow < deadline)
            {
                System.Threading.Thread.Sleep(20);
            }
            c.Stop(force: false, TimeSpan.FromSeconds(0.3));
            Assert.Equal(-9, c.ExitCode);
        }

        [Fact]
        public void CapturesStdoutAndStderrSeparately()
        {
            var c = Sh("echo out1; echo err1 >&2; echo out2");
            Assert.True(c.WaitForExit(Generous));
            Assert.Equal(new[] { "out1", "out2" }, c.StandardOutput.Read(false, out _));
            Assert.Equal(new[] { "err1" }, c.StandardError.Read(false, out _));
        }

        [Fact]
        public void ArgumentsArriveExactlyAsGiven()
        {
            var args = new List<string> { "-c", "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done", "sh", "a b", "", "q\"uote'", "ünï", "$HOME", "back\\slash" };
            var c = _sup.Start(_table, "args", new SpawnRequest("/bin/sh", args, "/"));
            Assert.True(c.WaitForExit(Generous));
            Assert.Equal(new[] { "[a b]", "[]", "[q\"uote']", "[ünï]", "[$HOME]", "[back\\slash]" }, c.StandardOutput.Read(false, out _));
        }

        [Fact]
        public void ChildSeesItsNameAndParentIdAndWorkingDirectory()
        {
            string dir = Directory.CreateTempSubdirectory("pk").FullName;
            try
            {
                var c = _sup.Start(_table, "named", new SpawnRequest("/bin/sh", new[] { "-c", "echo $PROCESSKIT_NAME; echo $PROCESSKIT_PARENT_ID; pwd -P" }, dir));
                Assert.True(c.WaitForExit(Generous));
                var lines = c.StandardOutput.Read(false, out _);
                Assert.Equal("named", lines[0]);
                Assert.Equal(Environment.ProcessId.ToString(), lines[1]);
                Assert.Equal(new DirectoryInfo(dir).FullName.TrimEnd('/'), lines[2]);
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Fact]
        public void ChildLeadsItsOwnProcessGroup()
        {
            var c = Sh("sleep 300");
            string stat = File.ReadAllText($"/proc/{c.Id}/stat");
            string[] fields = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
            Assert.Equal(c.Id.ToString(), fields[2]); // pgrp
        }

        [Fact]
        public void MissingProgramFailsWithTheOsReasonAndTracksNothing()
        {
            var e = Assert.Throws<ChildStartException>(() => _sup.Start(_table, "x", new SpawnRequest("/nonexistent/prog", Array.Empty<string>(), "/")));
            Assert.Contains("No such file or directory", e.Message);
            Assert.Empty(_table.Children);
        }

        [Fact]
        public void MissingWorkingDirectoryFailsAndTracksNothing()
        {
            Assert.Throws<ChildStartException>(() => _sup.Start(_table, "x", new SpawnRequest("/bin/sh", new[] { "-c", "true" }, "/nonexistent/dir")));
            Assert.Empty(_table.Children);
        }

        [Fact]
        public void EmbeddedNulIsRefused()
        {
            Assert.Throws<ChildStartException>(() => _sup.Start(_table, "x", new SpawnRequest("/bin/echo", new[] { "a\0b" }, "/")));
            Assert.Empty(_table.Children);
        }

        [Fact]
        public void DefaultNamesCountEveryStartPerTableAsPython()
        {
            var other = _sup.TableFor(_otherSession, "other");
            Assert.Equal("Process-1", Sh("exit 0").Name);
            Assert.Equal("w", Sh("exit 0", name: "w").Name);          // a named child takes number 2
            Assert.Throws<ChildStartException>(() => _sup.Start(_table, null, new SpawnRequest("/nonexistent", Array.Empty<string>(), "/")));
            Assert.Equal("Process-3", Sh("exit 0").Name);              // a failed start took none
            Assert.Equal("Process-1", _sup.Start(other, null, new SpawnRequest("/bin/sh", new[] { "-c", "exit 0" }, "/")).Name);
        }

        [Fact]
        public void RemoveRefusesRunningChildAndFreesExitedOne()
        {
            var c = Sh("sleep 300");
            Assert.False(_sup.Remove(c));
            Assert.Contains(c, _table.Children);
            c.Stop(true, TimeSpan.Zero);
            Assert.True(_sup.Remove(c));
            Assert.DoesNotContain(c, _table.Children);
            Assert.True(c.Removed);
        }

        [Fact]
        public void ExitedChildIsReapedNotLeftAZombie()
        {
            var c = Sh("exit 0");
            Assert.True(c.WaitForExit(Generous));
            Assert.False(File.Exists($"/proc/{c.Id}/stat") && File.ReadAllText($"/proc/{c.Id}/stat").Contains(") Z "));
        }

        [Fact]
        public void CloseEndsDaemonsButNotOtherChildren()
        {
            var d = Sh("sleep 300", daemon: true);
            var n = Sh("sleep 300");
            _sup.EndSession(_table, "test");
            // Close waits only briefly in line (it is also the first step of `exit`); the stop goes on in the background.
            Assert.True(d.WaitForExit(Generous));
            Assert.Equal(-15, d.ExitCode);
            Assert.True(n.IsAlive);
            Assert.True(_table.IsClosed);
        }

        [Fact]
        public void LargeOutputDoesNotBlockTheChild()
        {
            // 20 MB through the pipe: the supervisor must keep reading while the child writes.
            var c = Sh("head -c 20000000 /dev/zero | tr '\\0' 'x' | fold -w 1000");
            Assert.True(c.WaitForExit(Generous));
            Assert.Equal(0, c.ExitCode);
            var lines = c.StandardOutput.Read(false, out long dropped);
            Assert.Equal(20000, lines.Count + dropped);
        }
    }
}
