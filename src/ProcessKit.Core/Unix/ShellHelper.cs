using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;

namespace ProcessKit.Unix
{
    /// <summary>Starts the small /bin/sh helpers (the lifeline guardian, the drainer) from their embedded scripts: in a
    /// session of their own, so no terminal hang-up or Ctrl+C of ours reaches them, and with the system PATH first and
    /// a fixed locale (<see cref="HelperEnvironment"/>), so a session with PATH=/nonexistent still has working helpers.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static class ShellHelper
    {
        private const string Shell = "/bin/sh";

        private static readonly ConcurrentDictionary<string, string> Scripts = new ConcurrentDictionary<string, string>();

        /// <summary>The text of the embedded script <c>Unix/&lt;name&gt;.sh</c>, read once.</summary>
        internal static string Script(string name) => Scripts.GetOrAdd(name, n =>
        {
            string resource = $"ProcessKit.Unix.{n}.sh";
            using Stream stream = typeof(ShellHelper).Assembly.GetManifestResourceStream(resource)
                ?? throw new FileNotFoundException($"embedded script {resource} is missing from the assembly");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        });

        public static SpawnResult Start(string name, IReadOnlyList<string> arguments, StdioTable stdio,
            IEnumerable<KeyValuePair<string, string>>? environment = null)
        {
            string argv0 = "processkit-" + name.ToLowerInvariant();
            var argv = new List<string> { argv0, "-c", Script(name), argv0 };
            argv.AddRange(arguments);
            var env = new List<KeyValuePair<string, string>>
            {
                HelperEnvironment.PathVariable,
                new KeyValuePair<string, string>("LC_ALL", "C"),
            };
            if (environment != null)
            {
                env.AddRange(environment);
            }
            return UnixSpawner.Spawn(new ProgramSpec(Shell, argv, env, "/"), stdio, SpawnGroup.NewSession);
        }
    }
}
