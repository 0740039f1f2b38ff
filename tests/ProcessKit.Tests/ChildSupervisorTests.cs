using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace ProcessKit.Tests
{
    /// <summary>A platform that spawns nothing: children are numbers, signals are recorded, exits are reported when the
    /// test (or the child's scripted reaction to a signal) says so. The lifecycle rules are tested against it.</summary>
    internal sealed class FakePlatform : IProcessPlatform
    {
        internal sealed class FakeChild : IChildHandle
        {
            public FakeChild(int id, string name)
            {
                Id = id;
                Name = name;
            }

            public int Id { get; }
            public string Name { get; }
            public IChildObserver? Observer;
            public bool IgnoresTerminate;
            public bool Exited;
            public bool LifelineArmed;
            public bool Discarded;
        }

        private int _nextPid = 1000;
        public readonly ConcurrentQueue<(int Pid, ChildSignal Signal)> Signals = new ConcurrentQueue<(int, ChildSignal)>();
        public readonly List<FakeChild> Spawned = new List<FakeChild>();
        public readonly HashSet<int> Stragglers = new HashSet<int>();
        public readonly List<int> KilledGroups = new List<int>();
        public int HandOffs;
        public int? NextPid;
        public bool FailArm;
        public readonly List<string> Events = new List<string>();

        public IChildHandle Spawn(string name, SpawnRequest request)
        {
            if (request.FileName == "/missing")
            {
                throw new ChildStartException($"Cannot start '{request.FileName}': No such file or directory.", 2);
            }
            var child = new FakeChild(NextPid ?? Interlocked.Increment(ref _nextPid), name);
            NextPid = null;
            lock (Spawned)
            {
                Spawned.Add(child);
                Events.Add($"spawn {name}");
            }
            return child;
        }

        public void ArmLifeline(IChildHandle child, string name, TimeSpan gracePeriod)
        {
            if (FailArm)
            {
                throw new ChildStartException("no guardian");
            }
            ((FakeChild)child).LifelineArmed = true;
            lock (Spawned)
            {
                Events.Add($"arm {name}");
            }
        }

        public void Discard(IChildHandle child) => ((FakeChild)child).Discarded = true;

        /// <summary>Runs as a child is watched: output the platform reports at once.</summary>
        public Action<IChildObserver>? OnWatch;

        public void Watch(IChildHandle child, IChildObserver observer)
        {
            ((FakeChild)child).Observer = observer;
            OnWatch?.Invoke(observer);
            lock (Spawned)
            {
                Events.Add($"watch {observer.Name}");
            }
        }

        public bool Signal(IChildHandle child, ChildSignal signal)
        {
            var c = (FakeChild)child;
            lock (c)
            {
                if (c.Exited)
                {
                    return false;
                }
            }
            Signals.Enqueue((c.Id, signal));
            if (signal == ChildSignal.Kill || !c.IgnoresTerminate)
            {
                // Reported from another thread, as a real event loop does.
                Task.Run(() => Exit(c, -(int)signal));
            }
            return true;
        }

        /// <summary>The child exits (null: its status was taken by someone else).</summary>
        public void Exit(FakeChild c, int? code)
        {
            lock (c)
            {
                if (c.Exited)
                {
                    return;
                }
                c.Exited = true;
            }
            c.Observer!.OnExited(code);
        }

        public ISet<int> LiveProcessGroups(IReadOnlyCollection<int> processGroups)
        {
            lock (Stragglers)
            {
                return new HashSet<int>(processGroups.Where(Stragglers.Contains));
            }
        }

        public void KillGroup(int processGroup)
        {
            lock (Stragglers)
            {
                Stragglers.Remove(processGroup);
                KilledGroups.Add(processGroup);
            }
        }

        public void HandOffOutput() => Interlocked.Increment(ref HandOffs);

        public bool IsExecutable(string path) => true;

        public bool SupportsRecordsChannel => true;

        public System.IO.Stream TakeStandardInput(IChildHandle child) => new System.IO.MemoryStream();

        public FakeChild Of(ChildProcess child) => Spawned.Single(s => s.Id == child.Id && s.Observer == child);
    }

    /// <summary>The lifecycle rules of <see cref="ChildSupervisor"/>, without spawning anything.</summary>
    public sealed class ChildSupervisorTests
    {
        private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
        private readonly FakePlatform _platform = new FakePlatform();
        private readonly ChildSupervisor _sup;
        private readonly object _session = new object();
        private readonly ChildTable _table;

        public ChildSupervisorTests()
        {
            _sup = new ChildSupervisor(_platform);
            _table = _sup.TableFor(_session, "fake");
        }

        private ChildProcess Start(string? name = null, bool daemon = false, string file = "/bin/prog", TimeSpan? grace = null) =>
            _sup.Start(_table, name, new SpawnRequest(file, Array.Empty<string>(), "/")
            {
                Daemon = daemon,
                DaemonGracePeriod = grace ?? ChildSupervisor.DefaultDaemonGracePeriod,
            });

        [Fact]
        public void StartTracksTheChildAndNamesItAsPythonsCounter()
        {
            var a = Start();
            var b = Start("w");
            Assert.Throws<ChildStartException>(() => Start(file: "/missing"));
            var c = Start();
            Assert.Equal(new[] { "Process-1", "w", "Process-3" }, new[] { a.Name, b.Name, c.Name });
            Assert.Equal(new[] { a, b, c }, _table.Children);
            Assert.True(a.IsAlive);
            Assert.Equal(ChildState.Running, a.State);
        }

        [Fact]
        public void ADaemonsLifelineIsArmedBeforeItIsWatchedAndOnlyForDaemons()
        {
            var d = Start("d", daemon: true);
            var n = Start("n");
            Assert.True(_platform.Of(d).LifelineArmed);
            Assert.False(_platform.Of(n).LifelineArmed);
            Assert.Equal(new[] { "spawn d", "arm d", "watch d", "spawn n", "watch n" }, _platform.Events);
        }

        [Fact]
        public void ADaemonWhoseLifelineCannotBeArmedIsDiscardedAndNotTracked()
        {
            _platform.FailArm = true;
            var e = Assert.Throws<ChildStartException>(() => Start("d", daemon: true));
            Assert.Contains("lifeline", e.Message);
            Assert.True(_platform.Spawned.Single().Discarded);
            Assert.Empty(_table.Children);
        }

        [Fact]
        public void ExitCodesAndStatesFollowWhatThePlatformReports()
        {
            var ok = Start();
            var failed = Start();
            var signalled = Start();
            var lost = Start();
            _platform.Exit(_platform.Of(ok), 0);
            _platform.Exit(_platform.Of(failed), 3);
            _platform.Exit(_platform.Of(signalled), -9);
            _platform.Exit(_platform.Of(lost), null);
            Assert.True(lost.WaitForExit(Generous));
            Assert.Equal((0, ChildState.Completed), (ok.ExitCode!.Value, ok.State));
            Assert.Equal((3, ChildState.Failed), (failed.ExitCode!.Value, failed.State));
            Assert.Equal((-9, ChildState.Stopped), (signalled.ExitCode!.Value, signalled.State));
            Assert.Null(lost.ExitCode);
            Assert.Equal(ChildState.Lost, lost.State);
            Assert.NotNull(lost.ExitTime);
        }

        [Fact]
        public void StopSendsSigtermAndReturnsOnceTheChildExited()
        {
            var c = Start();
            _sup.Stop(c, force: false, Generous, "test");
            Assert.Equal(-15, c.ExitCode);
            Assert.Equal(ChildState.Stopped, c.State);
            Assert.Equal(new[] { (c.Id, ChildSignal.Terminate) }, _platform.Signals);
        }

        [Fact]
        public void AStopThatEndsWithExitZeroStillCountsAsStopped()
        {
            var c = Start();
            _platform.Of(c).IgnoresTerminate = true;
            var stopping = Task.Run(() => _sup.Stop(c, force: false, Generous, "test"));
            Assert.True(SpinWait.SpinUntil(() => !_platform.Signals.IsEmpty, Generous));
            _platform.Exit(_platform.Of(c), 0); // its SIGTERM handler exited 0
            Assert.True(stopping.Wait(Generous));
            Assert.Equal(ChildState.Stopped, c.State);
        }

        [Fact]
        public void StopEscalatesToSigkillAfterTheGracePeriod()
        {
            var c = Start();
            _platform.Of(c).IgnoresTerminate = true;
            _sup.Stop(c, force: false, TimeSpan.FromMilliseconds(100), "test");
            Assert.Equal(new[] { (c.Id, ChildSignal.Terminate), (c.Id, ChildSignal.Kill) }, _platform.Signals);
            Assert.Equal(-9, c.ExitCode);
        }

        [Fact]
        public void StoppingManySignalsThemAllBeforeAnySigkillSoTheyShareOneGracePeriod()
        {
            var children = Enumerable.Range(0, 5).Select(_ => Start()).ToList();
            foreach (var c in children)
            {
                _platform.Of(c).IgnoresTerminate = true;
            }
            _sup.Stop(children, force: false, _ => TimeSpan.FromMilliseconds(100), "test");
            var signals = _platform.Signals.ToList();
            Assert.Equal(10, signals.Count);
            Assert.All(signals.Take(5), s => Assert.Equal(ChildSignal.Terminate, s.Signal));
            Assert.All(signals.Skip(5), s => Assert.Equal(ChildSignal.Kill, s.Signal));
            Assert.All(children, c => Assert.Equal(-9, c.ExitCode));
        }

        [Fact]
        public void ForceSendsOnlySigkill()
        {
            var c = Start();
            _sup.Stop(c, force: true, TimeSpan.Zero, "test");
            Assert.Equal(new[] { (c.Id, ChildSignal.Kill) }, _platform.Signals);
            Assert.Equal(-9, c.ExitCode);
        }

        [Fact]
        public void WhatALeaderLeftInItsGroupIsKilledWhenTheGraceRunsOut()
        {
            var c = Start();
            lock (_platform.Stragglers)
            {
                _platform.Stragglers.Add(c.Id);
            }
            _sup.Stop(c, force: false, TimeSpan.FromMilliseconds(200), "test");
            Assert.Equal(-15, c.ExitCode);
            Assert.Equal(new[] { c.Id }, _platform.KilledGroups);
        }

        [Fact]
        public void AnExitedChildIsNeverSignalled()
        {
            var c = Start();
            _platform.Exit(_platform.Of(c), 0);
            Assert.True(c.WaitForExit(Generous));
            _sup.Stop(c, force: false, Generous, "test");
            _sup.Stop(c, force: true, Generous, "test");
            Assert.Empty(_platform.Signals);
        }

        [Fact]
        public void CancellingAStopEndsTheWaitButNotTheSignalsSent()
        {
            var c = Start();
            _platform.Of(c).IgnoresTerminate = true;
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            _sup.Stop(c, force: false, TimeSpan.FromSeconds(600), "test", cancel.Token);
            Assert.True(c.IsAlive);
            Assert.Equal(new[] { (c.Id, ChildSignal.Terminate) }, _platform.Signals);
        }

        [Fact]
        public void SessionEndEndsDaemonsLeavesOtherChildrenAndRefusesNewStarts()
        {
            var d = Start("d", daemon: true);
            var n = Start("n");
            _sup.EndSession(_table, "test");
            Assert.True(d.WaitForExit(Generous));
            Assert.Equal(-15, d.ExitCode);
            Assert.True(n.IsAlive);
            Assert.True(_table.IsClosed);
            Assert.Throws<InvalidOperationException>(() => Start());
            Assert.DoesNotContain(_platform.Signals, s => s.Pid == n.Id);
        }

        [Fact]
        public void SessionEndDoesNotWaitADaemonsWholeGrace()
        {
            var d = Start("d", daemon: true, grace: TimeSpan.FromMilliseconds(500));
            _platform.Of(d).IgnoresTerminate = true;
            _sup.EndSession(_table, "test"); // returns after SessionCloseWait; the rest goes on in the background
            Assert.True(d.WaitForExit(Generous));
            Assert.Equal(-9, d.ExitCode);
        }

        [Fact]
        public void ModuleRemovalEndsTheDaemonsButKeepsTheSessionOpen()
        {
            var d = Start("d", daemon: true);
            _sup.EndDaemons(_table, "test");
            Assert.Equal(-15, d.ExitCode);
            Assert.False(_table.IsClosed);
        }

        [Fact]
        public void ProcessEndEndsTheDaemonsOfEverySessionOnceThenHandsOffOutput()
        {
            var otherSession = new object();
            var other = _sup.TableFor(otherSession, "other");
            var d1 = Start("d1", daemon: true);
            var d2 = _sup.Start(other, "d2", new SpawnRequest("/bin/prog", Array.Empty<string>(), "/") { Daemon = true });
            var n = Start("n");
            _sup.OnProcessEnding("test");
            _sup.OnProcessEnding("again");
            Assert.True(d1.WaitForExit(Generous) && d2.WaitForExit(Generous));
            Assert.Equal(1, _platform.HandOffs);
            Assert.Equal(2, _platform.Signals.Count);
            Assert.True(n.IsAlive);
            GC.KeepAlive(otherSession);
        }

        [Fact]
        public void ADaemonIgnoringSigtermAtProcessEndIsLeftToTheLifelineWhenItsGraceIsLongerThanTheWait()
        {
            var d = Start("d", daemon: true, grace: TimeSpan.FromSeconds(10));
            _platform.Of(d).IgnoresTerminate = true;
            _sup.OnProcessEnding("test");
            Assert.True(d.IsAlive); // SIGKILL after 10 s is the guardian's job once the process is gone
            Assert.Equal(new[] { (d.Id, ChildSignal.Terminate) }, _platform.Signals);
        }

        [Fact]
        public void RemoveRefusesARunningChildAndForgetsAnExitedOne()
        {
            var c = Start();
            Assert.False(_sup.Remove(c));
            _platform.Exit(_platform.Of(c), 0);
            Assert.True(c.WaitForExit(Generous));
            Assert.True(_sup.Remove(c));
            Assert.Empty(_table.Children);
            Assert.True(c.Removed);
        }

        [Fact]
        public void AReusedPidFindsTheRunningChildElseTheNewest()
        {
            var old = Start("old");
            _platform.Exit(_platform.Of(old), 0);
            Assert.True(old.WaitForExit(Generous));
            _platform.NextPid = old.Id;
            var running = Start("running");
            Assert.Equal(old.Id, running.Id);
            Assert.Same(running, _table.FindById(old.Id));
            _platform.Exit(_platform.Of(running), 1);
            Assert.True(running.WaitForExit(Generous));
            Assert.Same(running, _table.FindById(old.Id));
        }

        [Fact]
        public void TheStartedRecordComesBeforeTheExitCanBeReported()
        {
            ProcessLog.Enable(LogLevel.Info, null);
            try
            {
                var c = Start("logged");
                _platform.Exit(_platform.Of(c), 0);
                Assert.True(c.WaitForExit(Generous));
                var mine = ProcessLog.Recent().Where(r => r.Message.Contains("logged")).Select(r => r.Message).ToList();
                Assert.StartsWith("child process logged started", mine[0]);
                Assert.Contains(mine, m => m.StartsWith("logged (pid", StringComparison.Ordinal) && m.EndsWith("exited with exitcode 0", StringComparison.Ordinal));
            }
            finally
            {
                ProcessLog.Disable();
            }
        }
    }
}
