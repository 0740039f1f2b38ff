using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;

namespace ProcessKit
{
    /// <summary>The environment variables every child sees, and how a child's environment is built.</summary>
    public static class ChildEnvironment
    {
        /// <summary>The child's name (Python's <c>current_process().name</c>).</summary>
        public const string NameVariable = "PROCESSKIT_NAME";

        /// <summary>The process id of the session that started the child.</summary>
        public const string ParentIdVariable = "PROCESSKIT_PARENT_ID";

        /// <summary>The log level the parent enabled, so a scriptblock child logs its own side at the same level.</summary>
        public const string LogLevelVariable = "PROCESSKIT_LOG_LEVEL";

        /// <summary>The session's environment as it is now, as a child gets it when nothing is added (no overrides, no
        /// log level handed on).</summary>
        public static Dictionary<string, string> OfSession() => Build(Environment.GetEnvironmentVariables(), null, null);

        /// <summary>The environment a child is started with: <paramref name="environment"/> (null: the session's own),
        /// plus its name and the session's pid, which every child sees whatever it was given.</summary>
        public static Dictionary<string, string> ForChild(IDictionary<string, string>? environment, string name)
        {
            var env = environment is null
                ? OfSession()
                : new Dictionary<string, string>(environment, OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            env[NameVariable] = name;
            env[ParentIdVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            return env;
        }

        /// <summary>The session's environment with <paramref name="overrides"/> applied (a null value removes the
        /// variable) and, for a scriptblock child, the enabled log level handed on. Names compare as the OS does:
        /// case-insensitively on Windows, so <c>@{ path = $null }</c> removes <c>Path</c> there.</summary>
        public static Dictionary<string, string> Build(IDictionary current, IEnumerable<KeyValuePair<string, string?>>? overrides, LogLevel? handOnLevel)
        {
            var env = new Dictionary<string, string>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            foreach (DictionaryEntry e in current)
            {
                env[(string)e.Key] = (string?)e.Value ?? string.Empty;
            }
            env.Remove(LogLevelVariable);
            if (handOnLevel is LogLevel level)
            {
                env[LogLevelVariable] = ((int)level).ToString(CultureInfo.InvariantCulture);
            }
            foreach (var kv in overrides ?? Array.Empty<KeyValuePair<string, string?>>())
            {
                if (string.IsNullOrEmpty(kv.Key) || kv.Key.IndexOf('=') >= 0 || kv.Key.IndexOf('\0') >= 0)
                {
                    throw new ChildStartException($"'{kv.Key}' is not a valid environment variable name.");
                }
                if (kv.Value is null)
                {
                    env.Remove(kv.Key);
                }
                else
                {
                    env[kv.Key] = kv.Value;
                }
            }
            return env;
        }
    }
}
