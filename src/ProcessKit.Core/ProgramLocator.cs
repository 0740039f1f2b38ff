using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ProcessKit
{
    /// <summary>Finds the program a child runs before the OS is asked, so "not found" and "not executable" are
    /// clear errors with the places searched, as a shell would say them.</summary>
    public static class ProgramLocator
    {
        /// <summary>errno values reported with the two failures (ENOENT, EACCES).</summary>
        private const int NoSuchFile = 2;
        private const int PermissionDenied = 13;
        private const int IsADirectory = 21;

        /// <summary>True when <paramref name="file"/> names a path rather than a command to search for.</summary>
        public static bool HasDirectory(string file) =>
            file.IndexOf('/') >= 0 || file.IndexOf(Path.DirectorySeparatorChar) >= 0 || file.StartsWith("~", StringComparison.Ordinal);

        /// <summary>An absolute path is checked as it is; a bare name is searched on <paramref name="pathVariable"/>,
        /// then in <paramref name="currentDirectory"/> (SPEC: PATH and the PowerShell location). On Windows a name
        /// without extension is tried with each PATHEXT extension. Throws <see cref="ChildStartException"/>.</summary>
        public static string Resolve(string file, string currentDirectory, string? pathVariable, Func<string, bool> isExecutable)
        {
            var candidates = new List<string>();
            bool hasDirectory = HasDirectory(file);
            if (hasDirectory)
            {
                candidates.Add(Path.GetFullPath(file, currentDirectory));
            }
            else
            {
                // A relative PATH entry (".", "bin") counts from the current location, and the result is absolute, so the
                // program found is the program run, whatever the child's working directory.
                candidates.AddRange((pathVariable ?? string.Empty).Split(Path.PathSeparator).Where(d => d.Length > 0)
                    .Select(d => Path.GetFullPath(Path.Combine(d, file), currentDirectory)));
                candidates.Add(Path.Combine(currentDirectory, file));
            }
            if (OperatingSystem.IsWindows() && !Path.HasExtension(file))
            {
                string[] extensions = (Environment.GetEnvironmentVariable("PATHEXT") ?? ".COM;.EXE;.BAT;.CMD").Split(';', StringSplitOptions.RemoveEmptyEntries);
                candidates = candidates.SelectMany(c => extensions.Select(e => c + e)).ToList();
            }
            string? existing = null;
            foreach (string candidate in candidates)
            {
                if (File.Exists(candidate))
                {
                    existing ??= candidate;
                    if (isExecutable(candidate))
                    {
                        return candidate;
                    }
                }
            }
            if (existing is null && hasDirectory && Directory.Exists(candidates[0]))
            {
                throw new ChildStartException($"Cannot start '{file}': Is a directory ('{candidates[0]}').", IsADirectory);
            }
            if (existing != null)
            {
                throw new ChildStartException($"Cannot start '{file}': Permission denied ('{existing}' is not executable).", PermissionDenied);
            }
            string where = hasDirectory ? $"'{candidates[0]}'" : "PATH or the current location";
            throw new ChildStartException($"Cannot start '{file}': No such file or directory (not found in {where}).", NoSuchFile);
        }
    }
}
