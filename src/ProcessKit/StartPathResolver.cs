using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Runtime.InteropServices;

namespace ProcessKit
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

        private string? _location;
        private PathInfo? _current;

        /// <summary>The PowerShell location (of any provider), read once per start.</summary>
        private PathInfo Current => _current ??= _cmdlet.SessionState.Path.CurrentLocation;

        /// <summary>The PowerShell file-system location (not the process's current directory), read once per start:
        /// a PathInfo's ProviderPath looks its drive up again, and on Unix that reads /proc/self/mountinfo (≈0.1 ms).</summary>
        public string Location => _location ??= ReadLocation();

        private string ReadLocation()
        {
            PathInfo current = Current;
            // On the file system's root drive the PowerShell path is the provider path ("/home/me"): nothing to look up.
            // A drive-qualified ("Temp:/x") or provider-qualified location takes PowerShell's own resolution.
            if (!OperatingSystem.IsWindows() && IsFileSystem(current.Provider) && current.Path.StartsWith('/'))
            {
                return current.Path;
            }
            return _cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        }

        private static bool IsFileSystem(ProviderInfo? provider) =>
            provider != null && string.Equals(provider.Name, FileSystemProviderName, StringComparison.OrdinalIgnoreCase);

        /// <summary>A path is taken as it is; a bare name is searched on <paramref name="pathVariable"/>, then in
        /// the location.</summary>
        public string Program(string file, string? pathVariable)
        {
            string what = $"Cannot start '{file}'";
            string candidate = ProgramLocator.HasDirectory(file) || IsOnDrive(file) ? FileSystemPath(file, what) : file;
            return ProgramLocator.Resolve(candidate, Location, pathVariable, ChildSupervisor.Default.IsExecutable);
        }

        /// <summary>An existing directory; null means the location.</summary>
        public string WorkingDirectory(string? directory)
        {
            string dir = directory is null ? Location : FileSystemPath(directory, $"Cannot start in working directory '{directory}'");
            if (!Directory.Exists(dir))
            {
                throw File.Exists(dir)
                    ? new ChildStartException($"Cannot start in working directory '{dir}': Not a directory.", Errno.ENOTDIR)
                    : new ChildStartException($"Cannot start in working directory '{dir}': No such file or directory.", Errno.ENOENT);
            }
            if (!OperatingSystem.IsWindows() && Unix.LibC.access(dir, SearchPermission) != 0)
            {
                // Found here: the spawn's chdir would fail with the same errno, reported as the program's failure.
                int errno = Marshal.GetLastPInvokeError();
                throw new ChildStartException($"Cannot start in working directory '{dir}': {Marshal.GetPInvokeErrorMessage(errno)}.", errno);
            }
            return dir;
        }

        /// <summary>A file the child's output can be written to; created if missing, never truncated here.</summary>
        public OutputTarget OutputFile(string path)
        {
            string full = FileSystemPath(path, $"Cannot redirect output to '{path}'");
            string? dir = Path.GetDirectoryName(full);
            if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
            {
                throw new ChildStartException($"Cannot redirect output to '{full}': the folder '{dir}' does not exist.", Errno.ENOENT);
            }
            if (Directory.Exists(full))
            {
                throw new ChildStartException($"Cannot redirect output to '{full}': it is a directory.", Errno.EISDIR);
            }
            // Checked here, without truncating, so the error names the file and not the program.
            if (!OperatingSystem.IsWindows() && File.Exists(full))
            {
                return new OutputTarget(full, WaitsForReader: !CheckWritableWithoutBlocking(full));
            }
            try
            {
                using (new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
                {
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ChildStartException($"Cannot redirect output to '{full}': {e.Message}");
            }
            return new OutputTarget(full, WaitsForReader: false);
        }

        /// <summary>access(2) mode X_OK: on a directory, the search permission chdir needs.</summary>
        private const int SearchPermission = 1;

        /// <summary>The file-system path <paramref name="path"/> names. A path of another provider (Env:, Function:,
        /// a registry drive) or of a drive that does not exist is refused, naming the path and the provider, instead of
        /// being taken for a file name.</summary>
        private string FileSystemPath(string path, string what)
        {
            if (!OperatingSystem.IsWindows() && path.StartsWith('/') && path.IndexOf('`') < 0 &&
                IsFileSystem(Current.Provider))
            {
                // An absolute path, the location on the file system: PowerShell's resolution would give the same
                // normalized path, only after looking the drive up (see Location).
                return Path.GetFullPath(path);
            }
            string resolved;
            ProviderInfo provider;
            try
            {
                resolved = _cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
            }
            catch (Exception e) when (e is SessionStateException || e is ProviderInvocationException || e is NotSupportedException || e is ArgumentException)
            {
                throw new ChildStartException($"{what}: {e.Message}");
            }
            if (!string.Equals(provider.Name, FileSystemProviderName, StringComparison.OrdinalIgnoreCase))
            {
                throw new ChildStartException($"{what}: the path is on the {provider.Name} provider, not the file system.");
            }
            return resolved;
        }

        private const string FileSystemProviderName = "FileSystem";

        /// <summary>"Env:sleep", "Temp:prog": a name qualified by an existing PowerShell drive is a path, not a name to
        /// search on PATH.</summary>
        private bool IsOnDrive(string file)
        {
            int colon = file.IndexOf(':');
            if (colon <= 0)
            {
                return false;
            }
            string drive = file.Substring(0, colon);
            return _cmdlet.SessionState.Drive.GetAll().Any(d => string.Equals(d.Name, drive, StringComparison.OrdinalIgnoreCase));
        }

        /// <summary>An existing file opened for writing as the child will open it, but non-blocking: opening a FIFO
        /// (or some devices) for writing waits for a reader, and the session must never hang on that. A FIFO nobody
        /// reads yet (ENXIO) passes, returning false: the child opening it waits for its reader, which is the child's
        /// business (see <see cref="FifoRedirect"/>), and Stop-ChildProcess still ends it.</summary>
        private static bool CheckWritableWithoutBlocking(string full)
        {
            int fd = Unix.LibC.open(full, Unix.LibC.O_WRONLY | Unix.LibC.O_NONBLOCK | Unix.LibC.O_CLOEXEC);
            if (fd >= 0)
            {
                Unix.LibC.close(fd);
                return true;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.ENXIO)
            {
                throw new ChildStartException($"Cannot redirect output to '{full}': {Marshal.GetPInvokeErrorMessage(errno)}.", errno);
            }
            return false;
        }

    }

    /// <summary>A resolved redirect file. <paramref name="WaitsForReader"/>: a FIFO nobody reads yet, whose opening
    /// for writing blocks until someone does.</summary>
    internal sealed record OutputTarget(string Path, bool WaitsForReader);
}
