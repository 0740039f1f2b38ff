using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;

namespace ProcessKit.Commands
{
    /// <summary>Turns a scriptblock into a program start: a new pwsh of the caller's own build, a bootstrap passed
    /// with -EncodedCommand, and a CLIXML payload (script text, arguments, $using: values, pipeline input) on stdin.
    /// The bootstrap writes every output record as one framed line on stdout, which <see cref="ChildRecordReader"/> decodes.</summary>
    internal static class ScriptBlockLauncher
    {
        /// <summary>Prefix of a framed record line: ASCII record separator + protocol tag.</summary>
        public const string FramePrefix = "\u001ePK1 ";

        /// <summary>Serialization depth of arguments, $using: values and output (Start-Job uses 1; 2 keeps one more level).</summary>
        private const int SerializationDepth = 2;

        /// <summary>The child's side. Framed mode (stdout captured): every record becomes one line for
        /// <see cref="ChildRecordReader"/>, log records go the same way. Plain mode (-UseConsole, or stdout redirected
        /// to a file): output is formatted by the child's host as at a prompt, errors go to stderr, log records are
        /// written to stderr in Python's format.</summary>
        private const string Bootstrap = @"
$__pkPayload = [System.Management.Automation.PSSerializer]::Deserialize([System.IO.StreamReader]::new([Console]::OpenStandardInput(), [System.Text.UTF8Encoding]::new($false)).ReadToEnd())
$__pkFramed = $__pkPayload.Framed
if ($__pkFramed) {
    $__pkWriter = [System.IO.StreamWriter]::new([Console]::OpenStandardOutput(), [System.Text.UTF8Encoding]::new($false))
    $__pkWriter.AutoFlush = $true
}
$__pkLevel = $env:PROCESSKIT_LOG_LEVEL
function __pkFrame([string]$tag, $item) {
    $xml = [System.Management.Automation.PSSerializer]::Serialize($item, 2)
    $__pkWriter.WriteLine(""`u{1e}PK1 $tag "" + [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($xml)))
}
function __pkLog([int]$level, [string]$message) {
    if (-not $__pkLevel -or $level -lt [int]$__pkLevel) { return }
    if ($__pkFramed) { $__pkWriter.WriteLine(""`u{1e}PK1 L $level $message""); return }
    $name = @{ 10 = 'DEBUG'; 20 = 'INFO'; 30 = 'WARNING' }[$level]
    [Console]::Error.WriteLine(""[$(if ($name) { $name } else { 'ERROR' })/$env:PROCESSKIT_NAME] $message"")
}
$__pkNewlines = [char[]]""`r`n""
$__PKUsing = $__pkPayload.Using
$__pkArgs = @($__pkPayload.Args)
$__pkBlock = [scriptblock]::Create($__pkPayload.Script)
$__pkRun = { if ($__pkPayload.HasInput) { $__pkPayload.Input | & $__pkBlock @__pkArgs } else { & $__pkBlock @__pkArgs } }
__pkLog 20 'child process calling scriptblock'
try {
    if (-not $__pkFramed) {
        & $__pkRun | Out-Default
    } else {
        & $__pkRun *>&1 | ForEach-Object {
            if ($_ -is [string] -and $_.IndexOfAny($__pkNewlines) -lt 0) { $__pkWriter.WriteLine(""`u{1e}PK1 S $_""); return }
            if ($_ -is [int]) { $__pkWriter.WriteLine(""`u{1e}PK1 i $_""); return }
            if ($_ -is [long]) { $__pkWriter.WriteLine(""`u{1e}PK1 l $_""); return }
            if ($_ -is [double]) { $__pkWriter.WriteLine(""`u{1e}PK1 d "" + $_.ToString('R', [cultureinfo]::InvariantCulture)); return }
            if ($_ -is [bool]) { $__pkWriter.WriteLine(""`u{1e}PK1 b $_""); return }
            # if/elseif, not switch: switch would enumerate an array sent as one object (,@(1,2)).
            $tag = if ($_ -is [System.Management.Automation.ErrorRecord]) { 'E' }
                elseif ($_ -is [System.Management.Automation.WarningRecord]) { 'W' }
                elseif ($_ -is [System.Management.Automation.VerboseRecord]) { 'V' }
                elseif ($_ -is [System.Management.Automation.DebugRecord]) { 'D' }
                elseif ($_ -is [System.Management.Automation.InformationRecord]) { 'I' }
                else { 'O' }
            __pkFrame $tag $_
        }
    }
} catch {
    if ($__pkFramed) { __pkFrame 'E' $_ } else { [Console]::Error.WriteLine(($_ | Out-String).TrimEnd()) }
    __pkLog 20 'process exiting with exitcode 1'
    exit 1
}
__pkLog 20 'process exiting with exitcode 0'
exit 0
";

        private static readonly string EncodedBootstrap = Convert.ToBase64String(Encoding.Unicode.GetBytes(Bootstrap));

        /// <summary>argv for a new pwsh like this one: `dotnet pwsh.dll` when hosted by the dotnet tool, else the apphost.</summary>
        public static (string FileName, List<string> Arguments) PwshCommand()
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
            args.AddRange(new[] { "-NoProfile", "-NonInteractive", "-NoLogo", "-OutputFormat", "Text", "-EncodedCommand", EncodedBootstrap });
            return (file, args);
        }

        /// <summary>The stdin payload: CLIXML of the script (with $using: rewritten), its arguments and input.</summary>
        public static byte[] Payload(ScriptBlock scriptBlock, object[]? arguments, IList<object?>? input, bool framed, System.Management.Automation.SessionState session)
        {
            var usingValues = new Hashtable(StringComparer.OrdinalIgnoreCase);
            string script = RewriteUsing(scriptBlock, session, usingValues);
            var payload = new Hashtable
            {
                ["Script"] = script,
                ["Args"] = arguments ?? Array.Empty<object>(),
                ["Using"] = usingValues,
                ["HasInput"] = input != null,
                ["Input"] = input?.ToArray() ?? Array.Empty<object?>(),
                ["Framed"] = framed,
            };
            return Encoding.UTF8.GetBytes(PSSerializer.Serialize(payload, SerializationDepth));
        }

        /// <summary>Replaces each <c>$using:name</c> with <c>$__PKUsing['name']</c> and captures the caller's value,
        /// as Start-Job does; member and index access after it keep working.</summary>
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

        private static string RewriteUsing(ScriptBlock scriptBlock, System.Management.Automation.SessionState session, Hashtable values)
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
                .Select(u => u.SubExpression.Find(a => a is VariableExpressionAst, true) as VariableExpressionAst)
                .Where(v => v != null)
                .OrderByDescending(v => v!.Extent.StartOffset)
                .ToList();
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
}
