using System;
using System.Collections.Generic;

namespace ProcessKit
{
    /// <summary>Everything needed to start one child, already resolved and validated by the caller:
    /// an absolute program path, the full argv, the complete environment and an existing directory.</summary>
    public sealed class SpawnRequest
    {
        public SpawnRequest(string fileName, IReadOnlyList<string> arguments, string workingDirectory)
        {
            FileName = fileName;
            Arguments = arguments;
            WorkingDirectory = workingDirectory;
        }

        /// <summary>Absolute path of the program.</summary>
        public string FileName { get; }

        /// <summary>argv[1..]: each element reaches the program as exactly one argument.</summary>
        public IReadOnlyList<string> Arguments { get; }

        public string WorkingDirectory { get; }

        /// <summary>The complete environment of the child (null: inherit the session's, plus the ProcessKit variables).</summary>
        public IDictionary<string, string>? Environment { get; set; }

        /// <summary>Bytes written to the child's stdin, which is then closed; null gives /dev/null.</summary>
        public byte[]? StandardInput { get; set; }

        /// <summary>Keep the child's stdin open as a pipe the session writes to over time
        /// (<see cref="ChildProcess.StandardInput"/>): a long-lived pool worker reads its requests there. Its EOF tells
        /// the child the session is gone.</summary>
        public bool KeepStandardInputOpen { get; set; }

        /// <summary>A pipe the session writes requests to over time, as the child's fd 4
        /// (<see cref="ChildProtocol.RequestsDescriptor"/>), read by a pool worker; <see cref="ChildProcess.StandardInput"/>
        /// is its writer and stdin stays /dev/null. A platform without it (Windows) uses stdin instead.</summary>
        public bool RequestsChannel { get; set; }

        public OutputMode OutputMode { get; set; } = OutputMode.Capture;

        public string? StandardOutputPath { get; set; }

        public string? StandardErrorPath { get; set; }

        public bool Daemon { get; set; }

        /// <summary>For a daemon: SIGTERM → this long → SIGKILL when its session ends.</summary>
        public TimeSpan DaemonGracePeriod { get; set; } = ChildProcess.DefaultDaemonGracePeriod;

        public ChildKind Kind { get; set; } = ChildKind.Program;

        /// <summary>Give the child a records pipe as fd 3 (a scriptblock child's protocol frames, see
        /// <see cref="ChildProtocol"/>), read into <see cref="ChildProcess.Records"/>. Platforms without it ignore it
        /// (<see cref="IProcessPlatform.SupportsRecordsChannel"/>): the child then frames on stdout.</summary>
        public bool CaptureRecords { get; set; }

        /// <summary>Set for a scriptblock child that may start on an idle warm host (<see cref="WarmHostPool"/>): the
        /// stdin payload with the given start entry (null: a cold child's, which needs none). When set,
        /// <see cref="StandardInput"/> may be left null: the cold start then takes this payload.</summary>
        internal Func<WarmStart?, byte[]>? HostPayload { get; set; }

        /// <summary>What runs, for display.</summary>
        public string? Command { get; set; }

        /// <summary>Replaces the exit code the platform reports (null: unknown) before anything sees it. A remote child
        /// (an ssh client) reports the exit status its remote side sent, not the ssh client's own.</summary>
        public Func<int?, int?>? ExitCodeTranslator { get; set; }

        /// <summary>Delivers a stop signal instead of signalling the local process group; returns false to have the
        /// group signalled after all. A remote child sends the signal to its remote process group this way.</summary>
        public Func<ChildSignal, bool>? SignalForwarder { get; set; }

        /// <summary>Sees each line of the child's captured stderr from the first one on (true: the line is taken out).
        /// A remote child reads its wrapper's status lines, and ssh's own messages, this way.</summary>
        public Func<string, bool>? StandardErrorLineFilter { get; set; }

        /// <summary>The host a remote child runs on (null: this machine).</summary>
        public string? HostName { get; set; }
    }
}
