namespace ProcessKit
{
    /// <summary>Decodes a raw POSIX wait status the way Python's multiprocessing reports it:
    /// the exit status when the child exited, <c>-N</c> when signal N ended it.
    /// .NET's Process reports <c>128+N</c> instead, which cannot tell SIGKILL from <c>exit 137</c>.</summary>
    public static class ExitStatus
    {
        /// <summary>Exit code from a wait status (Linux and macOS share this encoding).</summary>
        public static int FromWaitStatus(int status)
        {
            int low = status & 0x7f;
            if (low == 0)
            {
                return (status >> 8) & 0xff;           // WIFEXITED → WEXITSTATUS
            }
            if (low != 0x7f)
            {
                return -low;                            // WIFSIGNALED → -WTERMSIG
            }
            // WIFSTOPPED cannot reach us (we never pass WUNTRACED); treat defensively as unknown signal.
            return -((status >> 8) & 0xff);
        }

        /// <summary>The state an exit code puts a child in.</summary>
        public static ChildState StateOf(int exitCode, bool stopRequested) =>
            exitCode < 0 || stopRequested ? ChildState.Stopped
            : exitCode == 0 ? ChildState.Completed
            : ChildState.Failed;
    }
}
