using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text;
using ProcessKit.Remote;

namespace ProcessKit.Commands
{
    /// <summary>Start-ChildProcess -HostName: the child runs on another host over ssh (docs/remote.md).</summary>
    public sealed partial class StartChildProcessCommand
    {
        /// <summary>The ssh client, searched on the session's PATH.</summary>
        internal const string SshProgram = "ssh";

        /// <summary>Run the child on this host, over ssh: <c>[user@]host[:port]</c>.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? HostName { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? UserName { get; set; }

        [Parameter]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KeyFilePath { get; set; }

        /// <summary>ssh <c>-o</c> options, as New-PSSession -Options: <c>@{ StrictHostKeyChecking = 'no' }</c>.</summary>
        [Parameter]
        public Hashtable? SSHOption { get; set; }

        /// <summary>The remote pwsh that runs a scriptblock child (default: pwsh on the remote PATH).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? RemotePwsh { get; set; }

        /// <summary>Seconds ssh may take to connect before the start fails.</summary>
        [Parameter]
        [ValidateRange(1, 600)]
        public int ConnectTimeout { get; set; } = SshTarget.DefaultConnectTimeoutSeconds;

        private bool RemoteRequested()
        {
            if (HostName != null)
            {
                return true;
            }
            string? stray = SshTarget.StrayRemoteOnlyParameter(MyInvocation.BoundParameters);
            if (stray != null)
            {
                throw new ChildStartException($"-{stray} applies only to a remote child (with -HostName).");
            }
            return false;
        }

        private ChildProcess StartRemote()
        {
            CheckGracePeriod();
            if (UseConsole.IsPresent || RedirectStandardOutput != null || RedirectStandardError != null)
            {
                throw new ChildStartException("-UseConsole, -RedirectStandardOutput and -RedirectStandardError do not apply to a remote child (-HostName): its output is captured; Receive-ChildProcess reads it.");
            }
            var target = new SshTarget(HostName!, UserName, MyInvocation.BoundParameters.ContainsKey(nameof(Port)) ? Port : null,
                KeyFilePath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(KeyFilePath), SSHOption, ConnectTimeout);
            string ssh = Paths.Program(SshProgram, System.Environment.GetEnvironmentVariable("PATH"));
            ChildKind kind = ParameterSetName == FilePathSet ? ChildKind.Program : ChildKind.ScriptBlock;
            RemoteChild.Command command;
            if (kind == ChildKind.Program)
            {
                var args = ProgramArguments();
                command = new RemoteChild.Command(new[] { FilePath }.Concat(args).ToList(), string.Join(" ", new[] { FilePath }.Concat(args.Select(Quote))))
                {
                    Input = _sawInput ? ProgramInput.AsText(_input) : null,
                };
            }
            else
            {
                if (ScriptBlock is null || HasNoStatements(ScriptBlock))
                {
                    throw new ChildStartException("The scriptblock is null or empty: there is nothing to run.");
                }
                string body = ScriptBlock.ToString().Trim();
                command = new RemoteChild.Command(RemoteScriptBlock.PwshArgv(RemotePwsh), "{ " + (body.Length > CommandDisplayChars ? body.Substring(0, CommandDisplayChars - 3) + "..." : body) + " }")
                {
                    Input = ScriptBlockLauncher.Payload(ScriptBlock, ArgumentList?.Cast<object>().ToArray(), _sawInput ? _input : null,
                        ChildProtocol.Modes.RecordsOnStdout, SessionState, start: null),
                };
                if (ProcessLog.Level is LogLevel level)
                {
                    command.Environment.Add(new KeyValuePair<string, string?>(ChildEnvironment.LogLevelVariable, ((int)level).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }
            }
            command.Directory = WorkingDirectory; // a path on the remote host, as given
            if (Environment != null)
            {
                foreach (DictionaryEntry e in Environment)
                {
                    string key = LanguagePrimitives.ConvertTo<string>(e.Key);
                    object? value = e.Value is PSObject pso ? pso.BaseObject : e.Value;
                    if (!RemoteChild.IsShellName(key))
                    {
                        throw new ChildStartException($"'{key}' is not an environment variable name a remote shell can set (letters, digits and _).");
                    }
                    command.Environment.Add(new KeyValuePair<string, string?>(key, value is null ? null : LanguagePrimitives.ConvertTo<string>(value)));
                }
            }
            return RemoteChild.Start(SessionTables.Current, Name, target, ssh, command, kind, Daemon.IsPresent, TimeSpan.FromSeconds(GracePeriod));
        }
    }

    /// <summary>The remote pwsh of a scriptblock child: the same bootstrap as a local one, frames on stdout.</summary>
    internal static class RemoteScriptBlock
    {
        internal const string DefaultPwsh = "pwsh";

        private static readonly Lazy<string> EncodedBootstrap = new Lazy<string>(() => Convert.ToBase64String(Encoding.Unicode.GetBytes(ScriptBlockLauncher.Bootstrap)));

        public static List<string> PwshArgv(string? remotePwsh) =>
            new List<string> { remotePwsh ?? DefaultPwsh, "-NoProfile", "-NonInteractive", "-NoLogo", "-OutputFormat", "Text", "-EncodedCommand", EncodedBootstrap.Value };

        public static List<string> PwshArgv(string? remotePwsh, string encodedCommand) =>
            new List<string> { remotePwsh ?? DefaultPwsh, "-NoProfile", "-NonInteractive", "-NoLogo", "-OutputFormat", "Text", "-EncodedCommand", encodedCommand };
    }
}
