using System;

namespace ProcessKit
{
    /// <summary>A child could not be started; the message carries the OS reason (e.g. "No such file or directory").</summary>
    public sealed class ChildStartException : Exception
    {
        public ChildStartException(string message, int osError = 0)
            : base(message)
        {
            OsError = osError;
        }

        /// <summary>The errno from the OS, or 0 when the failure was found before asking it.</summary>
        public int OsError { get; }
    }
}
