using System;
using System.IO;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Turns Start-ChildProcess's paths (PowerShell paths, relative to the PowerShell location, drives
    /// allowed) into the checked, absolute file-system paths a <see cref="SpawnRequest"/> needs. Every failure is a
    /// <see cref="ChildStartException"/> that names the path and carries the errno the OS would have given.</summary>
    internal sealed class StartPathResolver
    {
        private readonly PSCmdlet _cmdlet;

        public StartPathResolver(PSCmdlet cmdlet)
        {
            _cmdlet = cmdlet;
        }

        /// <summary>The PowerShell file-system location (not the process's current directory).</summary>
        public string Location => _cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath;

        /// <summary>A path is taken as it is; a bare name is searched on <paramref name="pathVariable"/>, then in
        /// the location.</summary>
        public string Program(string file, string? pathVariable)
        {
            string candidate = ProgramLocator.HasDirectory(file) ? FileSystemPath(file) : file;
            return ProgramLocator.Resolve(candidate, Location, pathVariable, ProcessPlatform.Current.IsExecutable);
        }

        /// <summary>An existing directory; null means the location.</summary>
        public string WorkingDirectory(string? directory)
        {
            string dir = directory is null ? Location : FileSystemPath(directory);
            if (!Directory.Exists(dir))
            {
                throw File.Exists(dir)
                    ? new ChildStartException($"Cannot start in working directory '{dir}': Not a directory.", Errno.ENOTDIR)
                    : new ChildStartException($"Cannot start in working directory '{dir}': No such file or directory.", Errno.ENOENT);
            }
            return dir;
        }

        /// <summary>A file the child's output can be written to; created if missing, never truncated here.</summary>
        public string OutputFile(string path)
        {
            string full = FileSystemPath(path);
            string? dir = Path.GetDirectoryName(full);
            if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
            {
                throw new ChildStartException($"Cannot redirect output to '{full}': the folder '{dir}' does not exist.", Errno.ENOENT);
            }
            if (Directory.Exists(full))
            {
                throw new ChildStartException($"Cannot redirect output to '{full}': it is a directory.", Errno.EISDIR);
            }
            try
            {
                // Checked here, without truncating, so the error names the file and not the program.
                using (new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
                {
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ChildStartException($"Cannot redirect output to '{full}': {e.Message}");
            }
            return full;
        }

        private string FileSystemPath(string path) => _cmdlet.GetUnresolvedProviderPathFromPSPath(path);
    }
}
