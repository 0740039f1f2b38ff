using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;

namespace ProcessKit
{
    /// <summary>Turns a scriptblock into a program start: a new pwsh of the caller's own build, the bootstrap (the
    /// embedded ChildBootstrap.ps1, parametrised by <see cref="ChildProtocol"/>) passed with -EncodedCommand, and a
    /// CLIXML payload (script text, arguments, $using: values, pipeline input, the start entry) on stdin. The child
    /// writes its records as frames on its records channel (fd 3), which <see cref="ChildRecordReader"/> decodes.</summary>
    internal static class ScriptBlockLauncher
    {
        /// <summary>Logical name of the embedded bootstrap (set in the csproj, so it does not depend on folder names).</summary>
        internal const string BootstrapResourceName = "ProcessKit.ChildBootstrap.ps1";

        /// <summary>The bootstrap's text, read once: the protocol's parameters, the records side shared with pool workers,
        /// then the one-off child's script.</summary>
        internal static readonly string Bootstrap = ChildProtocol.BootstrapParameters() + ReadResource(RecordsResourceName) + ReadResource(BootstrapResourceName);

        /// <summary>The child's side of the records channel, shared by the one-off child and the pool worker.</summary>
        internal const string RecordsResourceName = "ProcessKit.ChildRecords.ps1";

        private static readonly string EncodedBootstrap = Convert.ToBase64String(Encoding.Unicode.GetBytes(Bootstrap));

        internal static string ReadResource(string name)
        {
            using Stream? stream = typeof(ScriptBlockLauncher).Assembly.GetManifestResourceStream(name);
            if (stream is null)
            {
                throw new InvalidOperationException($"The ProcessKit assembly lacks its embedded resource {name}.");
            }
            using var reader = new StreamReader(stream, new UTF8Encoding(false));
            return reader.ReadToEnd();
        }

        /// <summary>Sets up a scriptblock request: its records channel, and the payload on stdin. Framed records when
        /// stdout is captured; plain host output (errors once each on stderr) when it goes to the console or a file.
        /// Throws <see cref="UsingVariableException"/> before anything starts when a $using: variable is undefined.</summary>
        public static void Prepare(SpawnRequest request, ScriptBlock scriptBlock, object[]? arguments, IList<object?>? input,
            System.Management.Automation.SessionState session)
        {
            bool framed = request.OutputMode != OutputMode.Console && request.StandardOutputPath is null;
            bool channel = framed && ChildSupervisor.Default.Platform.SupportsRecordsChannel;
            // Stdout to a file, stderr captured: the output is text in the file, but errors keep their identity as records.
            bool errorRecords = !framed && request.OutputMode == OutputMode.File && request.StandardErrorPath is null &&
                ChildSupervisor.Default.Platform.SupportsRecordsChannel;
            request.CaptureRecords = channel || errorRecords;
            string mode = !framed ? ChildProtocol.Modes.Plain : channel ? ChildProtocol.Modes.Records : ChildProtocol.Modes.RecordsOnStdout;
            // Read now ($using: values, input), as Start-Job does; serialized when the child starts.
            Hashtable payload = PayloadTable(scriptBlock, arguments, input, mode, session, start: null, errorsToStderr: request.StandardErrorPath != null);
            payload["ErrorRecords"] = errorRecords;
            if (channel && request.OutputMode == OutputMode.Capture && request.StandardOutputPath is null && request.StandardErrorPath is null)
            {
                // Captured, on the records channel: the stdio of an idle warm host, which may become this child. Its
                // start entry then brings the name, the environment and the location it would have had cold.
                request.HostPayload = start =>
                {
                    payload["Start"] = start is null ? null : StartEntry(start.Name, start.Environment, start.Location);
                    return Serialize(payload);
                };
            }
            else
            {
                request.StandardInput = Serialize(payload);
            }
        }

        /// <summary>The stdin payload: CLIXML of the script (with $using: rewritten), its arguments and input.
        /// <paramref name="start"/> is the start entry (name, environment, location; see <see cref="ChildProtocol"/>):
        /// a freshly spawned child already has all three; a warm host gets one (<see cref="Prepare"/>).</summary>
        internal static byte[] Payload(ScriptBlock scriptBlock, object[]? arguments, IList<object?>? input, string mode,
            System.Management.Automation.SessionState session, Hashtable? start, bool errorsToStderr = false) =>
            Serialize(PayloadTable(scriptBlock, arguments, input, mode, session, start, errorsToStderr));

        private static byte[] Serialize(Hashtable payload) =>
            Encoding.UTF8.GetBytes(PSSerializer.Serialize(payload, ChildProtocol.SerializationDepth));

        private static Hashtable PayloadTable(ScriptBlock scriptBlock, object[]? arguments, IList<object?>? input, string mode,
            System.Management.Automation.SessionState session, Hashtable? start, bool errorsToStderr)
        {
            var usingValues = new Hashtable(StringComparer.OrdinalIgnoreCase);
            string script = RewriteUsing(scriptBlock, session, usingValues);
            var payload = new Hashtable
            {
                ["Protocol"] = ChildProtocol.Version,
                ["Script"] = script,
                ["Args"] = arguments ?? Array.Empty<object>(),
                ["Using"] = usingValues,
                ["HasInput"] = input != null,
                ["Input"] = input?.ToArray() ?? Array.Empty<object?>(),
                ["Mode"] = mode,
                ["Start"] = start,
                // -RedirectStandardError: errors go to that file, once each as at a prompt, not as records.
                ["ErrorsToStderr"] = errorsToStderr,
            };
            return payload;
        }

        /// <summary>The start entry a host takes on before it runs anything: <paramref name="environment"/> values
        /// set, null values removed.</summary>
        internal static Hashtable StartEntry(string? name, IDictionary<string, string?>? environment, string? location)
        {
            var env = new Hashtable(StringComparer.Ordinal);
            foreach (var kv in environment ?? new Dictionary<string, string?>())
            {
                env[kv.Key] = kv.Value;
            }
            return new Hashtable { ["Name"] = name, ["Environment"] = env, ["Location"] = location };
        }

        /// <summary>argv for a new pwsh like this one: `dotnet pwsh.dll` when hosted by the dotnet tool, else the apphost.</summary>
        public static (string FileName, List<string> Arguments) PwshCommand() => PwshCommand(EncodedBootstrap);

        /// <summary>As <see cref="PwshCommand()"/>, running <paramref name="encodedCommand"/> (a pool worker's bootstrap).</summary>
        public static (string FileName, List<string> Arguments) PwshCommand(string encodedCommand)
        {
            string? processPath = Environment.ProcessPath;
            string psHome = Path.GetDirectoryName(typeof(PSObject).Assembly.Location) ?? string.Empty;
            var args = new List<string>();
            string file;
            string? name = processPath is null ? null : Path.GetFileNameWithoutExtension(processPath);
            if (processPath != null && string.Equals(name, "pwsh", StringComparison.OrdinalIgnoreCase))
            {
                file = processPath;
            }
            else if (processPath != null && string.Equals(name, "dotnet", StringComparison.OrdinalIgnoreCase) && File.Exists(Path.Combine(psHome, "pwsh.dll")))
            {
                file = processPath;
                args.Add(Path.Combine(psHome, "pwsh.dll"));
            }
            else if (File.Exists(Path.Combine(psHome, OperatingSystem.IsWindows() ? "pwsh.exe" : "pwsh")))
            {
                file = Path.Combine(psHome, OperatingSystem.IsWindows() ? "pwsh.exe" : "pwsh");
            }
            else
            {
                file = "pwsh"; // hosted elsewhere (e.g. a test host): the caller resolves it on PATH
            }
            args.AddRange(new[] { "-NoProfile", "-NonInteractive", "-NoLogo", "-OutputFormat", "Text", "-EncodedCommand", encodedCommand });
            return (file, args);
        }

        /// <summary>Commands that run a scriptblock argument in a runspace of their own, resolving its <c>$using:</c>
        /// from the scope they are called in: inside the child, that is the child's scope, not this session's.</summary>
        private static readonly HashSet<string> RunspaceCommands = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "Start-ThreadJob", "Start-Job", "Invoke-Command", "icm", "sajb", "Start-ChildProcess",
        };

        /// <summary>ForEach-Object and its aliases: a runspace command only with -Parallel.</summary>
        private static readonly HashSet<string> ForEachCommands = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "ForEach-Object", "foreach", "%",
        };

        /// <summary>True when <paramref name="u"/> sits in a scriptblock (below <paramref name="root"/>) passed to a
        /// command that starts its own runspace (<c>ForEach-Object -Parallel</c>, Start-ThreadJob, Start-Job,
        /// Invoke-Command, Start-ChildProcess): that command resolves the <c>$using:</c> from the child's scope, so it is
        /// left alone. A <c>$using:</c> in any other nested block (<c>&amp; { }</c>, a function) runs in the child's
        /// runspace and gets this session's value, as with Start-Job.</summary>
        private static bool InsideNestedRunspaceBlock(UsingExpressionAst u, Ast root)
        {
            for (Ast? a = u.Parent; a != null && a != root; a = a.Parent)
            {
                if (a is not ScriptBlockExpressionAst block)
                {
                    continue;
                }
                Ast? parent = block.Parent is CommandParameterAst p ? p.Parent : block.Parent;
                if (parent is CommandAst command && command.GetCommandName() is string name)
                {
                    if (RunspaceCommands.Contains(name))
                    {
                        return true;
                    }
                    if (ForEachCommands.Contains(name) && command.CommandElements.OfType<CommandParameterAst>()
                        .Any(cp => cp.ParameterName.StartsWith("pa", StringComparison.OrdinalIgnoreCase)))
                    {
                        return true;
                    }
                }
            }
            return false;
        }

        private static bool InsideExpandableString(Ast ast)
        {
            for (Ast? a = ast.Parent; a != null; a = a.Parent)
            {
                if (a is ExpandableStringExpressionAst)
                {
                    return true;
                }
                if (a is ScriptBlockAst || a is SubExpressionAst)
                {
                    return false;
                }
            }
            return false;
        }

        /// <summary>Replaces each <c>$using:name</c> with <c>$__PKUsing['name']</c> and captures the caller's value,
        /// as Start-Job does; member and index access after it keep working.</summary>
        internal static string RewriteUsing(ScriptBlock scriptBlock, System.Management.Automation.SessionState session, Hashtable values)
        {
            Ast ast = scriptBlock.Ast;
            bool braced = ast.Parent is ScriptBlockExpressionAst;
            string prefix = string.Empty;
            if (ast is FunctionDefinitionAst function)
            {
                // ${function:f} or (Get-Command f).ScriptBlock: run the body, with `function f($x = 7)`'s parameters
                // turned into a param block (the definition alone would only define f in the child).
                if (function.Parameters != null && function.Parameters.Count > 0)
                {
                    prefix = "param(" + string.Join(", ", function.Parameters.Select(p => p.Extent.Text)) + ")" + Environment.NewLine;
                }
                ast = function.Body;
                braced = true;
            }
            string text = ast.Extent.Text;
            int baseOffset = ast.Extent.StartOffset;
            var usings = ast.FindAll(a => a is UsingExpressionAst, searchNestedScriptBlocks: true)
                .Cast<UsingExpressionAst>()
                .Where(u => !InsideNestedRunspaceBlock(u, ast))
                .Select(u => u.SubExpression.Find(a => a is VariableExpressionAst, true) as VariableExpressionAst)
                .Where(v => v != null)
                .OrderByDescending(v => v!.Extent.StartOffset)
                .ToList();
            // Every value is read before anything is rewritten: an undefined one refuses the start, as Start-Job does.
            foreach (var v in usings)
            {
                string path = v!.VariablePath.UserPath;
                if (!v.VariablePath.IsDriveQualified && session.PSVariable.Get(path) is null)
                {
                    throw new UsingVariableException(path);
                }
            }
            var sb = new StringBuilder(text);
            foreach (var v in usings)
            {
                // The path keeps its scope or drive ($using:script:x, $using:env:PATH), read as the caller would.
                string path = v!.VariablePath.UserPath;
                values[path] = session.PSVariable.GetValue(path);
                string replacement = "$__PKUsing['" + path.Replace("'", "''") + "']";
                if (InsideExpandableString(v))
                {
                    replacement = "$(" + replacement + ")";
                }
                sb.Remove(v.Extent.StartOffset - baseOffset, v.Extent.EndOffset - v.Extent.StartOffset);
                sb.Insert(v.Extent.StartOffset - baseOffset, replacement);
            }
            string result = sb.ToString();
            if (braced && result.StartsWith("{", StringComparison.Ordinal) && result.EndsWith("}", StringComparison.Ordinal))
            {
                result = result.Substring(1, result.Length - 2);
            }
            return prefix + result;
        }
    }

    /// <summary>A <c>$using:</c> variable that is not defined in the session: the start is refused, with Start-Job's
    /// error id and message.</summary>
    public sealed class UsingVariableException : Exception
    {
        /// <summary>Start-Job's id for the same refusal.</summary>
        public const string ErrorId = "UsingVariableIsUndefined";

        public UsingVariableException(string variablePath)
            : base($"The value of the using variable '$using:{variablePath}' cannot be retrieved because it has not been set in the local session.")
        {
            VariablePath = variablePath;
        }

        public string VariablePath { get; }

        /// <summary>The record Start-ChildProcess writes (category and target as Start-Job's).</summary>
        public ErrorRecord ToErrorRecord() => new ErrorRecord(this, ErrorId, ErrorCategory.InvalidOperation, null);
    }
}
