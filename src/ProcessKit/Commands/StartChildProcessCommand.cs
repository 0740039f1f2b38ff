using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>Process(target=...).start()</c>: runs a scriptblock in a new pwsh, or a program, as a
    /// tracked child of this session.</summary>
    [Cmdlet(VerbsLifecycle.Start, "ChildProcess", DefaultParameterSetName = ScriptBlockSet)]
    [OutputType(typeof(ChildProcess))]
    public sealed partial class StartChildProcessCommand : PSCmdlet
    {
        private const string ScriptBlockSet = "ScriptBlock";
        private const string FilePathSet = "FilePath";
        /// <summary>How much of a scriptblock's text Command shows: enough to recognise it in a table.</summary>
        private const int CommandDisplayChars = 60;
        private const string PathVariable = "PATH";

        private readonly List<object?> _input = new List<object?>();
        private StartPathResolver? _paths;
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
        [ValidateNoControlCharacters]
        public string? Name { get; set; }

        [Parameter]
        public SwitchParameter Daemon { get; set; }

        /// <summary>For a daemon: seconds between SIGTERM and SIGKILL when its session ends. Refused without
        /// -Daemon, where it would mean nothing (Stop-ChildProcess has its own -GracePeriod).</summary>
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

        private StartPathResolver Paths => _paths ??= new StartPathResolver(this);

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
            string target = ParameterSetName == FilePathSet ? FilePath : "scriptblock";
            try
            {
                WriteObject(RemoteRequested() ? StartRemote() : ChildSupervisor.Default.Start(SessionTables.Current, Name, BuildRequest())); // Remote/StartRemote.cs
            }
            catch (ChildStartException e)
            {
                ProcessLog.Error($"failed to start {target}: {e.Message}");
                WriteError(ErrorHelper.StartFailure(e, target));
            }
            catch (UsingVariableException e)
            {
                ProcessLog.Error($"failed to start {target}: {e.Message}");
                WriteError(e.ToErrorRecord());
            }
        }

        /// <summary>Every parameter resolved and checked, in the order a user reads them; throws
        /// <see cref="ChildStartException"/> on the first problem.</summary>
        private SpawnRequest BuildRequest()
        {
            CheckGracePeriod();
            bool redirected = RedirectStandardOutput != null || RedirectStandardError != null;
            if (UseConsole.IsPresent && redirected)
            {
                throw new ChildStartException("-UseConsole cannot be combined with -RedirectStandardOutput or -RedirectStandardError.");
            }
            ChildKind kind = ParameterSetName == FilePathSet ? ChildKind.Program : ChildKind.ScriptBlock;
            var environment = BuildEnvironment(kind);
            var (file, args, command) = kind == ChildKind.Program ? ProgramCommand(environment) : ScriptBlockCommand();
            string directory = Paths.WorkingDirectory(WorkingDirectory);
            OutputMode mode = UseConsole.IsPresent ? OutputMode.Console : redirected ? OutputMode.File : OutputMode.Capture;
            // The other stream of a redirected one stays captured.
            OutputTarget? stdout = RedirectStandardOutput is null ? null : Paths.OutputFile(RedirectStandardOutput);
            OutputTarget? stderr = RedirectStandardError is null ? null : Paths.OutputFile(RedirectStandardError);
            (file, args) = FifoRedirect.Apply(file, args, stdout, stderr);
            var request = new SpawnRequest(file, args, directory)
            {
                Kind = kind,
                Command = command,
                Daemon = Daemon.IsPresent,
                DaemonGracePeriod = TimeSpan.FromSeconds(GracePeriod),
                Environment = environment,
                OutputMode = mode,
                StandardOutputPath = stdout is { WaitsForReader: false } ? stdout.Path : null,
                StandardErrorPath = stderr is { WaitsForReader: false } ? stderr.Path : null,
                StandardInput = kind == ChildKind.Program && _sawInput ? ProgramInput.AsText(_input) : null,
            };
            if (kind == ChildKind.ScriptBlock)
            {
                // Its records channel and its payload (script, arguments, $using: values, input) on stdin.
                ScriptBlockLauncher.Prepare(request, ScriptBlock!, ArgumentList?.Cast<object>().ToArray(), _sawInput ? _input : null, SessionState);
            }
            return request;
        }

        /// <summary>A bare program name is searched on the child's PATH, as Python's subprocess does: the PATH
        /// -Environment gives it, else the session's (also when -Environment removes PATH: the program must still be
        /// found somewhere, and the child's own lookups are then its business).</summary>
        private (string File, IReadOnlyList<string> Args, string Command) ProgramCommand(IReadOnlyDictionary<string, string> environment)
        {
            string? searchPath = environment.TryGetValue(PathVariable, out string? childPath) ? childPath : System.Environment.GetEnvironmentVariable(PathVariable);
            string program = Paths.Program(FilePath, searchPath);
            var args = ProgramArguments();
            return (program, args, string.Join(" ", new[] { program }.Concat(args.Select(Quote))));
        }

        private (string File, IReadOnlyList<string> Args, string Command) ScriptBlockCommand()
        {
            if (ScriptBlock is null || HasNoStatements(ScriptBlock))
            {
                throw new ChildStartException("The scriptblock is null or empty: there is nothing to run.");
            }
            var (file, args) = ScriptBlockLauncher.PwshCommand();
            if (!Path.IsPathRooted(file))
            {
                file = Paths.Program(file, System.Environment.GetEnvironmentVariable(PathVariable));
            }
            string body = ScriptBlock.ToString().Trim();
            return (file, args, "{ " + (body.Length > CommandDisplayChars ? body.Substring(0, CommandDisplayChars - 3) + "..." : body) + " }");
        }

        /// <summary>-GracePeriod means something only for a daemon (local or remote): refused otherwise.</summary>
        private void CheckGracePeriod()
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(GracePeriod)) && !Daemon.IsPresent)
            {
                throw new ChildStartException("-GracePeriod applies only to a -Daemon child (the time its session's end gives it between SIGTERM and SIGKILL); to give a child time when stopping it, use Stop-ChildProcess -GracePeriod.");
            }
        }

        /// <summary>-ArgumentList as a program receives it: each element one string ($null an empty one).</summary>
        private List<string> ProgramArguments() =>
            (ArgumentList ?? Array.Empty<object?>()).Select(a => a is null ? string.Empty : LanguagePrimitives.ConvertTo<string>(a)).ToList();

        /// <summary>{}, { # a comment } and { param($x) } alike: nothing would run but a pwsh that starts and exits.</summary>
        internal static bool HasNoStatements(ScriptBlock scriptBlock)
        {
            var ast = scriptBlock.Ast as ScriptBlockAst ?? (scriptBlock.Ast as FunctionDefinitionAst)?.Body;
            if (ast is null)
            {
                return string.IsNullOrWhiteSpace(scriptBlock.ToString());
            }
            // Its own named blocks (begin, process, end, dynamicparam, clean), not those of scriptblocks inside it.
            return !ast.FindAll(a => a is NamedBlockAst block && block.Parent == ast && block.Statements.Count > 0, searchNestedScriptBlocks: false).Any();
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

        private static string Quote(string arg) =>
            arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./:=,+@%".IndexOf(c) >= 0) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
    }
}
