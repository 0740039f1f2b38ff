using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Reflection;

namespace ProcessKit.Unix
{
    /// <summary>Exit codes when this process is PID 1 (pwsh as a container's entrypoint). .NET's SIGCHLD thread then
    /// reaps every child, not only its own (pal_signal.c: <c>reapAll = getpid() == 1 || SIGCHLD was SIG_IGN</c>;
    /// ProcessWaitState.CheckChildren), and it runs before any PosixSignalRegistration handler of ours, whose
    /// <c>Cancel</c> does not stop it. Our children's statuses were lost. What .NET does keep: for a pid in its own
    /// child table it records the exit code it reaped. So each of our children is entered in that table while .NET's
    /// CheckChildren cannot run (its lock held across spawn and entry); then either .NET reaps it and keeps the code,
    /// or we reap it under the entry's own lock (where .NET's reap would take it) and mark it exited, so .NET's
    /// TryReapChild leaves it alone instead of failing fast on ECHILD. See docs/pid1.md.
    ///
    /// These are private members of System.Diagnostics.Process (stable since .NET 6; checked by name and type): when
    /// any is missing, nothing is entered and <see cref="Problem"/> says why, for the warning at import.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static class Pid1Reaping
    {
        /// <summary>.NET reports death by signal N as 128+N (SystemNative_WaitPidExitedNoHang); signals go up to 64.</summary>
        private const int DotNetSignalBase = 128;
        private const int MaxSignal = 64;

        /// <summary>SIGCHLD's number on Linux (every architecture .NET runs on), its bit in /proc/self/status SigIgn.</summary>
        private const int LinuxSigChld = 17;

        private sealed class Binding
        {
            public Binding(object table, MethodInfo addRef, MethodInfo releaseRef, FieldInfo gate, FieldInfo exited, FieldInfo exitCode)
            {
                Table = table;
                AddRef = addRef;
                ReleaseRef = releaseRef;
                Gate = gate;
                Exited = exited;
                ExitCode = exitCode;
            }

            public readonly object Table;
            public readonly MethodInfo AddRef;
            public readonly MethodInfo ReleaseRef;
            public readonly FieldInfo Gate;
            public readonly FieldInfo Exited;
            public readonly FieldInfo ExitCode;
        }

        private static readonly Binding? Bound = Bind(out _problem);
        private static readonly string? _problem;

        /// <summary>pid → its entry (a ProcessWaitState) in .NET's child table, until we took its exit.</summary>
        private static readonly ConcurrentDictionary<int, object> Entries = new ConcurrentDictionary<int, object>();

        /// <summary>Why exit codes of children can be lost in this process, or null (the usual case: not PID 1).</summary>
        public static string? Problem => _problem;

        /// <summary>Spawns through <paramref name="spawn"/>; as PID 1 also enters the child in .NET's child table
        /// before .NET could reap it.</summary>
        public static SpawnResult Spawn(Func<SpawnResult> spawn)
        {
            var b = Bound;
            if (b is null)
            {
                return spawn();
            }
            lock (b.Table) // CheckChildren holds it while it reaps: none can happen between the spawn and the entry
            {
                var spawned = spawn();
                var args = b.AddRef.GetParameters().Select((p, i) => i == 0 ? (object)spawned.Pid : i == 1).ToArray();
                Entries[spawned.Pid] = b.AddRef.Invoke(null, args)!; // isNewChild: true; usesTerminal: false
                return spawned;
            }
        }

        /// <summary>True for a child whose exit must be taken through <see cref="TryReap"/>.</summary>
        public static bool Owns(int pid) => Entries.ContainsKey(pid);

        /// <summary>Takes the exit of an entered child: false while it runs (or while .NET is between its waitpid(-1)
        /// and recording the code: the SIGCHLD wake-up that follows comes back here). <paramref name="exitCode"/> is
        /// -N for signal N, as everywhere in ProcessKit.</summary>
        public static bool TryReap(int pid, out int? exitCode)
        {
            exitCode = null;
            var b = Bound;
            if (b is null || !Entries.TryGetValue(pid, out object? entry))
            {
                return false;
            }
            int releases;
            lock (b.Gate.GetValue(entry)!)
            {
                if ((bool)b.Exited.GetValue(entry)!)
                {
                    // .NET reaped it and kept the code; its CheckChildren already dropped its own reference.
                    exitCode = FromDotNet((int?)b.ExitCode.GetValue(entry));
                    releases = 1;
                }
                else
                {
                    int reaped = LibC.waitpid(pid, out int status, LibC.WNOHANG);
                    if (reaped != pid)
                    {
                        return false; // running, or reaped by .NET's waitpid(-1) that records it next
                    }
                    b.Exited.SetValue(entry, true);
                    exitCode = ExitStatus.FromWaitStatus(status);
                    releases = 2; // ours and the one CheckChildren would have dropped
                }
            }
            Entries.TryRemove(pid, out _);
            for (int i = 0; i < releases; i++)
            {
                b.ReleaseRef.Invoke(entry, null); // the entry leaves .NET's table at zero
            }
            return true;
        }

        /// <summary>Blocks until the (killed) child is reaped, the exit discarded: a plain blocking waitpid on an
        /// entered pid could reap it between .NET's peek and its TryReapChild, which then fails fast.</summary>
        public static void ReapDiscarding(int pid)
        {
            if (!Owns(pid))
            {
                LibC.waitpid(pid, out _, 0);
                return;
            }
            while (!TryReap(pid, out _))
            {
                System.Threading.Thread.Sleep(DiscardPollMs);
            }
        }

        /// <summary>Only on a failed daemon start (SIGKILLed just before): a few polls at most.</summary>
        private const int DiscardPollMs = 5;

        /// <summary>128+N from .NET is death by signal N. As PID 1 a program's own exit status 129..192 reads as a
        /// signal too when .NET reaped it first (which it nearly always does): documented in docs/pid1.md.</summary>
        private static int? FromDotNet(int? code) =>
            code is int c && c > DotNetSignalBase && c <= DotNetSignalBase + MaxSignal ? -(c - DotNetSignalBase) : code;

        private static Binding? Bind(out string? problem)
        {
            problem = null;
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }
            if (SigChldIgnored())
            {
                problem = "SIGCHLD was ignored (SIG_IGN) when this process started, so the kernel discards the exit status of every child; " +
                    "start pwsh with SIGCHLD at its default disposition";
                return null;
            }
            if (Environment.ProcessId != 1)
            {
                return null;
            }
            const string remedy = "run the container with an init process (docker run --init, tini, dumb-init) so that pwsh is not PID 1";
            try
            {
                const BindingFlags any = BindingFlags.NonPublic | BindingFlags.Public;
                Assembly asm = typeof(System.Diagnostics.Process).Assembly;
                Type? pws = asm.GetType("System.Diagnostics.ProcessWaitState");
                object? table = pws?.GetField("s_childProcessWaitStates", any | BindingFlags.Static)?.GetValue(null);
                MethodInfo? addRef = pws?.GetMethod("AddRef", any | BindingFlags.Static);
                MethodInfo? releaseRef = pws?.GetMethod("ReleaseRef", any | BindingFlags.Instance, Type.EmptyTypes);
                FieldInfo? gate = pws?.GetField("_gate", any | BindingFlags.Instance);
                FieldInfo? exited = pws?.GetField("_exited", any | BindingFlags.Instance);
                FieldInfo? exitCode = pws?.GetField("_exitCode", any | BindingFlags.Instance);
                MethodInfo? init = typeof(System.Diagnostics.Process).GetMethod("EnsureInitialized", any | BindingFlags.Static, Type.EmptyTypes);
                var p = addRef?.GetParameters();
                bool shapes = p != null && p.Length >= 2 && p[0].ParameterType == typeof(int) && p.Skip(1).All(x => x.ParameterType == typeof(bool)) &&
                    exited?.FieldType == typeof(bool) && exitCode?.FieldType == typeof(int?);
                if (table is null || addRef is null || releaseRef is null || gate is null || exited is null || exitCode is null || init is null || !shapes)
                {
                    problem = $"this session is PID 1, where .NET reaps every child, and this .NET ({Environment.Version}) does not let ProcessKit keep the exit codes; {remedy}";
                    return null;
                }
                // Without .NET's SIGCHLD callback (registered with the first Process) its signal thread reaps with a
                // bare waitpid(-1) loop that records nothing.
                init.Invoke(null, null);
                return new Binding(table, addRef, releaseRef, gate, exited, exitCode);
            }
            catch (Exception e) when (e is TargetInvocationException || e is MemberAccessException || e is InvalidOperationException)
            {
                problem = $"this session is PID 1, where .NET reaps every child, and ProcessKit could not keep the exit codes ({e.GetBaseException().Message}); {remedy}";
                return null;
            }
        }

        /// <summary>/proc/self/status SigIgn holds the dispositions inherited at exec (.NET keeps an ignored SIGCHLD ignored).</summary>
        private static bool SigChldIgnored()
        {
            try
            {
                foreach (string line in System.IO.File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
                    {
                        ulong mask = Convert.ToUInt64(line.Substring("SigIgn:".Length).Trim(), 16);
                        return (mask & (1UL << (LinuxSigChld - 1))) != 0;
                    }
                }
            }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException || e is FormatException)
            {
            }
            return false;
        }
    }
}
