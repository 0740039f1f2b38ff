using System.Collections.Generic;

namespace ProcessKit
{
    /// <summary>posix_spawn opens a redirect file in the child before exec while the spawning thread waits for that
    /// exec (vfork semantics), so a FIFO nobody reads yet would hang the session, uninterruptibly, inside the spawn.
    /// Such a FIFO is opened instead by a /bin/sh put in front of the program, which then execs it (same pid, same
    /// exit code): the child waits for its reader, the session does not, and Stop-ChildProcess ends the waiting
    /// child like any other.</summary>
    internal static class FifoRedirect
    {
        private const string Shell = "/bin/sh";

        /// <summary>$1: stdout FIFO or empty, $2: stderr FIFO or empty, then the program and its arguments. The same
        /// FIFO for both streams is opened once, as the spawner does for the same file.</summary>
        private const string Script =
            "o=$1 e=$2; shift 2; " +
            "if [ -n \"$o\" ]; then exec >\"$o\" || exit 126; fi; " +
            "if [ -n \"$e\" ]; then if [ \"$e\" = \"$o\" ]; then exec 2>&1; else exec 2>\"$e\" || exit 126; fi; fi; " +
            "exec \"$@\"";

        /// <summary>The program and arguments to spawn: unchanged unless a redirect target waits for a reader.</summary>
        public static (string File, IReadOnlyList<string> Args) Apply(string file, IReadOnlyList<string> args, OutputTarget? stdout, OutputTarget? stderr)
        {
            string? outFifo = stdout is { WaitsForReader: true } ? stdout.Path : null;
            string? errFifo = stderr is { WaitsForReader: true } ? stderr.Path : null;
            if (outFifo is null && errFifo is null)
            {
                return (file, args);
            }
            var wrapped = new List<string> { "-c", Script, "sh", outFifo ?? string.Empty, errFifo ?? string.Empty, file };
            wrapped.AddRange(args);
            return (Shell, wrapped);
        }
    }
}
