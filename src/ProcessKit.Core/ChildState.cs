namespace ProcessKit
{
    /// <summary>Where a child is in its life. Mirrors SPEC's states; <see cref="Lost"/> is the honest answer
    /// when someone else reaped the child (e.g. pwsh running as PID 1) and no exit status can be known.</summary>
    public enum ChildState
    {
        Running,
        /// <summary>Exited with code 0.</summary>
        Completed,
        /// <summary>Exited with a code greater than 0.</summary>
        Failed,
        /// <summary>Ended by a signal, or by Stop-ChildProcess.</summary>
        Stopped,
        /// <summary>The exit status was taken by another reaper; ExitCode stays null.</summary>
        Lost,
    }

    /// <summary>Where a child's standard output and error go.</summary>
    public enum OutputMode
    {
        /// <summary>Captured into bounded in-memory buffers, read with Receive-ChildProcess.</summary>
        Capture,
        /// <summary>A stream with a path (RedirectStandardOutput / RedirectStandardError) goes to its file; the other is captured.</summary>
        File,
        /// <summary>Shared with the session's console (Python's default).</summary>
        Console,
    }

    /// <summary>What a child runs: a PowerShell scriptblock (framed object output) or a plain program (text).</summary>
    public enum ChildKind
    {
        Program,
        ScriptBlock,
    }
}
