using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>Process(target=...).start()</c>: runs a scriptblock in a new pwsh, or a program, as a
    /// tracked child of this session.</summary>
    [Cmdlet(VerbsLifecycle.Start, "ChildProcess", DefaultParameterSetName = ScriptBlockSet)]
    [OutputType(typeof(ChildProcess))]
    public sealed class StartChildProcessCommand : PSCmdlet
    {
        private const string ScriptBlockSet = "ScriptBlock";
        private const string FilePathSet = "FilePath";

        private readonly List<object?> _input = new List<object?>();
        private bool _sawInput;

        [Parameter(ParameterSetName = ScriptBlockSet, Mandatory = true, Position = 0)]
        [AllowNull]
        public ScriptBlock? ScriptBlock { get; set; }

        [Parameter(ParameterSetName = FilePathSet, Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string FilePath { get; set; } = string.Empty;

        [Parameter(Position = 1)]
        [AllowEmptyString]
        [AllowNull]
        [Alias("Args")]
        public object?[]? ArgumentList { get; set; }

        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        [Parameter]
        public SwitchParameter Daemon { get; set; }

        /// <summary>For a daemon: seconds between SIGTERM and SIGKILL when its session ends.</summary>
        [Parameter]
        [ValidateRange(0.0, 3600.0)]
        public double GracePeriod { get; set; } = ChildProcess.DefaultDaemonGracePeriod.TotalSeconds;

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? WorkingDirectory { get; set; }

        [Parameter]
        public IDictionary? Environment { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? RedirectStandardOutput { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? RedirectStandardError { get; set; }

        /// <summary>Share the session's console instead of capturing (Python's default).</summary>
        [Parameter]
        public SwitchParameter UseConsole { get; set; }

        protected override void ProcessRecord()
        {
            if (MyInvocation.ExpectingInput || MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
            {
                _sawInput = true;
                _input.Add(InputObject);
            }
        }

        protected override void EndProcessing()
        {
            ChildTable table = SessionTables.Current;
            string target = ParameterSetName == FilePathSet ? FilePath : "scriptblock";
            try
            {
                SpawnRequest request = ParameterSetName == FilePathSet ? ProgramRequest() : ScriptBlockRequest();
                ApplyCommonOptions(request);
                string name = Name ?? table.NextDefaultName();
                WriteObject(table.Start(name, request));
            }
            catch (ChildStartException e)
            {
                ProcessLog.Error($"failed to start {target}: {e.Message}");
                WriteError(ErrorHelper.StartFailure(e.Message, target));
            }
        }

        private SpawnRequest ProgramRequest()
        {
            string program = ResolveProgram(FilePath);
            var args = (ArgumentList ?? Array.Empty<object?>()).Select(a => a is null ? string.Empty : LanguagePrimitives.ConvertTo<string>(a)).ToList();
            return new SpawnRequest(program, args, ResolveWorkingDirectory())
            {
                Kind = ChildKind.Program,
                Command = string.Join(" ", new[] { program }.Concat(args.Select(Quote))),
            };
        }

        private SpawnRequest ScriptBlockRequest()
        {
            if (ScriptBlock is null || string.IsNullOrWhiteSpace(ScriptBlock.ToString()))
            {
                throw new ChildStartException("The scriptblock is null or empty: there is nothing to run.");
            }
            var (file, args) = ScriptBlockLauncher.PwshCommand();
            if (!Path.IsPathRooted(file))
            {
                file = ResolveProgram(file);
            }
            string body = ScriptBlock.ToString().Trim();
            return new SpawnRequest(file, args, ResolveWorkingDirectory())
            {
                Kind = ChildKind.ScriptBlock,
                StandardInput = ScriptBlockLauncher.Payload(ScriptBlock, ArgumentList?.Cast<object>().ToArray(), _sawInput ? _input : null, SessionState),
                Command = "{ " + (body.Length > 60 ? body.Substring(0, 57) + "..." : body) + " }",
            };
        }

        private void ApplyCommonOptions(SpawnRequest request)
        {
            request.Daemon = Daemon.IsPresent;
            request.DaemonGracePeriod = TimeSpan.FromSeconds(GracePeriod);
            request.Environment = BuildEnvironment(request.Kind);
            if (UseConsole.IsPresent)
            {
                request.OutputMode = OutputMode.Console;
            }
            if (RedirectStandardOutput != null || RedirectStandardError != null)
            {
                if (UseConsole.IsPresent)
                {
                    throw new ChildStartException("-UseConsole cannot be combined with -RedirectStandardOutput or -RedirectStandardError.");
                }
                request.OutputMode = OutputMode.File;
                request.StandardOutputPath = RedirectStandardOutput is null ? null : ResolveOutputFile(RedirectStandardOutput);
                request.StandardErrorPath = RedirectStandardError is null ? null : ResolveOutputFile(RedirectStandardError); // the other stream stays captured
            }
        }

        /// <summary>The session's environment, with -Environment applied ($null removes) and the log level handed on.</summary>
        private Dictionary<string, string> BuildEnvironment(ChildKind kind)
        {
            // Windows environment names are case-insensitive: -Environment @{ path = $null } must remove Path.
            var env = new Dictionary<string, string>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
            {
                env[(string)e.Key] = (string?)e.Value ?? string.Empty;
            }
            env.Remove(ChildEnvironment.LogLevelVariable);
            if (kind == ChildKind.ScriptBlock && ProcessLog.Level is LogLevel level)
            {
                env[ChildEnvironment.LogLevelVariable] = ((int)level).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            if (Environment != null)
            {
                foreach (DictionaryEntry e in Environment)
                {
                    string key = LanguagePrimitives.ConvertTo<string>(e.Key);
                    if (string.IsNullOrEmpty(key) || key.IndexOf('=') >= 0)
                    {
                        throw new ChildStartException($"'{key}' is not a valid environment variable name.");
                    }
                    object? value = e.Value is PSObject pso ? pso.BaseObject : e.Value;
                    if (value is null)
                    {
                        env.Remove(key);
                    }
                    else
                    {
                        env[key] = LanguagePrimitives.ConvertTo<string>(value);
                    }
                }
            }
            return env;
        }

        /// <summary>A path (relative to the PowerShell location) or a bare name searched on PATH, then in the location.</summary>
        private string ResolveProgram(string file)
        {
            var platform = ProcessPlatform.Current;
            bool hasDirectory = file.IndexOf('/') >= 0 || file.IndexOf(Path.DirectorySeparatorChar) >= 0 || file.StartsWith("~", StringComparison.Ordinal);
            var candidates = new List<string>();
            if (hasDirectory)
            {
                candidates.Add(GetUnresolvedProviderPathFromPSPath(file));
            }
            else
            {
                string path = System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
                candidates.AddRange(path.Split(Path.PathSeparator).Where(d => d.Length > 0).Select(d => Path.Combine(d, file)));
                candidates.Add(Path.Combine(SessionState.Path.CurrentFileSystemLocation.ProviderPath, file));
            }
            if (OperatingSystem.IsWindows() && !Path.HasExtension(file))
            {
                // A bare "python" means python.exe (or .cmd, ...) on Windows: try each PATHEXT extension too.
                string[] extensions = (System.Environment.GetEnvironmentVariable("PATHEXT") ?? ".COM;.EXE;.BAT;.CMD").Split(';', StringSplitOptions.RemoveEmptyEntries);
                candidates = candidates.SelectMany(c => extensions.Select(e => c + e)).ToList();
            }
            string? existing = null;
            foreach (string c in candidates)
            {
                if (File.Exists(c))
                {
                    existing ??= c;
                    if (platform.IsExecutable(c))
                    {
                        return c;
                    }
                }
            }
            if (existing != null)
            {
                throw new ChildStartException($"Cannot start '{file}': Permission denied ('{existing}' is not executable).", 13);
            }
            string where = hasDirectory ? $"'{candidates[0]}'" : "PATH or the current location";
            throw new ChildStartException($"Cannot start '{file}': No such file or directory (not found in {where}).", 2);
        }

        private string ResolveWorkingDirectory()
        {
            string dir = WorkingDirectory is null
                ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
                : GetUnresolvedProviderPathFromPSPath(WorkingDirectory);
            if (!Directory.Exists(dir))
            {
                throw new ChildStartException($"Cannot start in working directory '{dir}': No such file or directory.", 2);
            }
            return dir;
        }

        private string ResolveOutputFile(string path)
        {
            string full = GetUnresolvedProviderPathFromPSPath(path);
            string? dir = Path.GetDirectoryName(full);
            if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
            {
                throw new ChildStartException($"Cannot redirect output to '{full}': the folder '{dir}' does not exist.", 2);
            }
            if (Directory.Exists(full))
            {
                throw new ChildStartException($"Cannot redirect output to '{full}': it is a directory.", 21);
            }
            return full;
        }

        private static string Quote(string arg) =>
            arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./:=,+@%".IndexOf(c) >= 0) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
    }
}
