using System;
using System.Collections;
using System.Linq;
using ProcessKit.Remote;
using Xunit;

namespace ProcessKit.Tests
{
    /// <summary>Issue 12: the core hooks a remote child uses (exit-code translator, signal forwarder) and the ssh argv.</summary>
    public sealed class RemoteTests
    {
        private readonly FakePlatform _platform = new FakePlatform();
        private readonly ChildSupervisor _sup;
        private readonly ChildTable _table = new ChildTable("test");

        public RemoteTests()
        {
            _sup = new ChildSupervisor(_platform);
        }

        [Fact]
        public void TheTranslatorReplacesThePlatformsExitCodeBeforeAnyoneSeesIt()
        {
            var child = _sup.Start(_table, "r", new SpawnRequest("/bin/ssh", Array.Empty<string>(), "/")
            {
                ExitCodeTranslator = code => code == 255 ? 7 : code,
                HostName = "h",
            });
            _platform.Exit(_platform.Of(child), 255);
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(10)));
            Assert.Equal(7, child.ExitCode);
            Assert.Equal(ChildState.Failed, child.State);
            Assert.Equal("h", child.HostName);
        }

        [Fact]
        public void AForwardedSignalIsNotSentToTheLocalGroupAndARefusedOneIs()
        {
            var forwarded = new System.Collections.Generic.List<ChildSignal>();
            bool accept = true;
            var child = _sup.Start(_table, "r", new SpawnRequest("/bin/ssh", Array.Empty<string>(), "/")
            {
                SignalForwarder = s => { forwarded.Add(s); return accept; },
            });
            _sup.Stop(child, force: true, TimeSpan.Zero, "test", new System.Threading.CancellationTokenSource(200).Token);
            Assert.Equal(new[] { ChildSignal.Kill }, forwarded);
            Assert.Empty(_platform.Signals);
            accept = false;
            var other = _sup.Start(_table, "r2", new SpawnRequest("/bin/ssh", Array.Empty<string>(), "/")
            {
                SignalForwarder = s => { forwarded.Add(s); return accept; },
            });
            _sup.Stop(other, force: true, TimeSpan.Zero, "test");
            Assert.Contains(_platform.Signals, s => s.Pid == other.Id && s.Signal == ChildSignal.Kill);
        }

        [Fact]
        public void TheStderrFilterIsInPlaceBeforeThePlatformReportsAnyOutput()
        {
            // Regression: the filter was set after Start returned, so an ssh that failed at once (connection refused)
            // wrote its reason before it and the start error lost ssh's words.
            var seen = new System.Collections.Generic.List<string>();
            _platform.OnWatch = observer =>
            {
                byte[] line = System.Text.Encoding.UTF8.GetBytes("ssh: connect to host h port 1: Connection refused\n");
                observer.StandardError.Append(line, line.Length);
            };
            _sup.Start(_table, "r", new SpawnRequest("/bin/ssh", Array.Empty<string>(), "/")
            {
                StandardErrorLineFilter = l => { seen.Add(l); return true; },
            });
            Assert.Equal(new[] { "ssh: connect to host h port 1: Connection refused" }, seen.Select(l => l.TrimEnd()));
        }

        [Theory]
        [InlineData("host", null, null, "host")]
        [InlineData("bob@host", "bob", null, "host")]
        [InlineData("bob@host:2222", "bob", 2222, "host")]
        [InlineData("[::1]:2200", null, 2200, "::1")]
        [InlineData("::1", null, null, "::1")]
        public void HostNamesParseAsUserHostAndPort(string given, string? user, int? port, string host)
        {
            var t = new SshTarget(given, null, null, null, null, 5);
            Assert.Equal(host, t.Host);
            Assert.Equal(user, t.UserName);
            Assert.Equal(port, t.Port);
        }

        [Fact]
        public void TheUsersOptionsComeBeforeOursSoTheyWinAndTheHostAndCommandComeLast()
        {
            var t = new SshTarget("h", "u", 22, "/k", new Hashtable { ["BatchMode"] = false }, 5);
            var args = t.Arguments("cmd");
            int user = args.IndexOf("BatchMode=no");
            int ours = args.IndexOf("BatchMode=yes");
            Assert.True(user >= 0 && ours > user);
            Assert.Contains("ConnectTimeout=5", args);
            Assert.Equal(new[] { "--", "h", "cmd" }, args.Skip(args.Count - 3));
            Assert.Equal("22", args[args.IndexOf("-p") + 1]);
            Assert.Equal("u", args[args.IndexOf("-l") + 1]);
            Assert.Equal("/k", args[args.IndexOf("-i") + 1]);
        }

        [Theory]
        [InlineData("-oProxyCommand=x")]
        [InlineData("host:99999")]
        [InlineData("a b")]
        public void BadHostNamesAreRefused(string given)
        {
            Assert.Throws<ChildStartException>(() => new SshTarget(given, null, null, null, null, 5));
        }
    }
}
