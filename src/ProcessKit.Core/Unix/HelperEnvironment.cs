using System;
using System.Collections.Generic;

namespace ProcessKit.Unix
{
    /// <summary>The environment of ProcessKit's own helper processes (guardians, drainers): /bin/sh scripts that run
    /// cat and sleep. They must not depend on the session's PATH: a session that set PATH to something without
    /// coreutils would otherwise get guardians whose sleep fails (so the grace period is skipped: straight to SIGKILL)
    /// and drainers whose cat fails (so the children they drain die of SIGPIPE).</summary>
    internal static class HelperEnvironment
    {
        /// <summary>Where coreutils live on every Linux distribution and macOS; searched before the session's PATH,
        /// which is only a fallback for unusual layouts (e.g. NixOS).</summary>
        internal const string SystemPath = "/usr/bin:/bin";

        /// <summary>The PATH a helper gets: the system directories first, then the session's.</summary>
        internal static string Path
        {
            get
            {
                string? session = Environment.GetEnvironmentVariable("PATH");
                return string.IsNullOrEmpty(session) ? SystemPath : SystemPath + ":" + session;
            }
        }

        internal static KeyValuePair<string, string> PathVariable => new KeyValuePair<string, string>("PATH", Path);
    }
}
