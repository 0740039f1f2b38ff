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
                if (request.Kind == ChildKind.ScriptBlock)
                {
                    ScriptBlockLauncher.Prepare(request, ScriptBlock!, ArgumentList?.Cast<object>().ToArray(), _sawInput ? _input : null, SessionState);
                }
                else
                {
                    request.StandardInput = StandardInputFor(request);
                }
                WriteObject(ChildSupervisor.Default.Start(table, Name, request));
            }
            catch (ChildStartException e)
            {
                ProcessLog.Error($"failed to start {target}: {e.Message}");
                WriteError(ErrorHelper.StartFailure(e.Message, target));
            }
            catch (UsingVariableException e)
            {
                ProcessLog.Error($"failed to start {target}: {e.Message}");
                WriteError(e.ToErrorRecord());
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
                Command = "{ " + (body.Length > 60 ? body.Substring(0, 57) + "..." : body) + " }",
            };
        }

        /// <summary>A program gets the pipeline input as lines of text, as a native command in a PowerShell pipeline
        /// does; without input, /dev/null. (A scriptblock child's payload: <see cref="ScriptBlockLauncher.Prepare"/>.)</summary>
        private byte[]? StandardInputFor(SpawnRequest request)
        {
            if (!_sawInput)
            {
                return null;
            }
            var text = new System.Text.StringBuilder();
            foreach (object? item in _input)
            {
                text.Append(item is null ? string.Empty : LanguagePrimitives.ConvertTo<string>(item)).Append('\n');
            }
            return new System.Text.UTF8Encoding(false).GetBytes(text.ToString());
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
            var overrides = new List<KeyValuePair<string, string?>>();
            if (Environment != null)
            {
                foreach (DictionaryEntry e in Environment)
                {
                    object? value = e.Value is PSObject pso ? pso.BaseObject : e.Value;
                    overrides.Add(new KeyValuePair<string, string?>(LanguagePrimitives.ConvertTo<string>(e.Key), value is null ? null : LanguagePrimitives.ConvertTo<string>(value)));
                }
            }
            return ChildEnvironment.Build(System.Environment.GetEnvironmentVariables(), overrides, kind == ChildKind.ScriptBlock ? ProcessLog.Level : null);
        }

        /// <summary>A path (relative to the PowerShell location, PowerShell drives allowed) or a bare name searched on
        /// PATH, then in the location.</summary>
        private string ResolveProgram(string file)
        {
            string location = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
            string candidate = ProgramLocator.HasDirectory(file) ? GetUnresolvedProviderPathFromPSPath(file) : file;
            return ProgramLocator.Resolve(candidate, location, System.Environment.GetEnvironmentVariable("PATH"), ChildSupervisor.Default.IsExecutable);
        }

        private string ResolveWorkingDirectory()
        {
            string dir = WorkingDirectory is null
                ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
                : GetUnresolvedProviderPathFromPSPath(WorkingDirectory);
            if (!Directory.Exists(dir))
            {
                throw File.Exists(dir)
                    ? new ChildStartException($"Cannot start in working directory '{dir}': Not a directory.", 20)
                    : new ChildStartException($"Cannot start in working directory '{dir}': No such file or directory.", 2);
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

        private static string Quote(string arg) =>
            arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./:=,+@%".IndexOf(c) >= 0) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
    }
}
