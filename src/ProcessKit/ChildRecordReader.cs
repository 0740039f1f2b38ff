using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Reflection;

namespace ProcessKit
{
    /// <summary>Turns what a child sent back into what PowerShell users expect, as Receive-Job rehydrates a job's
    /// results: a scriptblock child's frames (its records channel, <see cref="ChildProtocol"/>) become objects and stream
    /// records with their identity kept; stdout lines are text; stderr lines become error records. Stateless, so a
    /// streaming Receive loop can call <see cref="Emit"/> for every batch it reads.</summary>
    internal static class ChildRecordReader
    {
        /// <summary>Writes one batch: <paramref name="records"/> (frame lines), then <paramref name="stdout"/>, then
        /// <paramref name="stderr"/>. For a child without a records channel (a platform that has none) frames are
        /// looked for in stdout instead. <paramref name="nameChild"/>: a stderr error record's message starts with the
        /// child's name (the exception keeps the line as it was), for a Receive of several children.</summary>
        public static void Emit(PSCmdlet cmdlet, ChildProcess child, IReadOnlyList<string> records, IReadOnlyList<string> stdout,
            IReadOnlyList<string> stderr, bool stderrAsText, bool nameChild = false)
        {
            foreach (string line in records)
            {
                EmitLine(cmdlet, child, line);
            }
            bool framedStdout = child.Kind == ChildKind.ScriptBlock && !child.HasRecordsChannel;
            foreach (string line in stdout)
            {
                if (framedStdout)
                {
                    EmitLine(cmdlet, child, line);
                }
                else
                {
                    cmdlet.WriteObject(line);
                }
            }
            foreach (string line in stderr)
            {
                if (stderrAsText)
                {
                    cmdlet.WriteObject(line);
                    continue;
                }
                var record = new ErrorRecord(new ChildStandardErrorException(line), ErrorHelper.StandardError, ErrorCategory.FromStdErr, child);
                if (nameChild)
                {
                    record.ErrorDetails = new ErrorDetails($"{child.Name}: {line}");
                }
                cmdlet.WriteError(record);
            }
        }

        /// <summary>Writes one frame line. <paramref name="errorTarget"/>: an error record's TargetObject becomes it (a pool
        /// item's errors name the input item).</summary>
        internal static void EmitLine(PSCmdlet cmdlet, ChildProcess child, string line, object? errorTarget = null)
        {
            if (!ChildProtocol.TryParse(line, out ChildProtocol.Frame frame))
            {
                cmdlet.WriteObject(line); // not a frame: hand it over as text, never lose it
                return;
            }
            if (ChildProtocol.TryDecodePrimitive(frame, out object? primitive))
            {
                cmdlet.WriteObject(primitive); // strings and numbers travel without CLIXML: ten times less to read
                return;
            }
            object? item;
            try
            {
                if (!ChildProtocol.TryDecodeClixml(frame.Body, out string xml))
                {
                    cmdlet.WriteObject(line);
                    return;
                }
                item = PSSerializer.Deserialize(xml);
            }
            catch (Exception e) when (e is System.Xml.XmlException || e is InvalidOperationException || e is PSInvalidOperationException)
            {
                cmdlet.WriteObject(line);
                return;
            }
            // Types PowerShell rehydrates (ProgressRecord, ...) come back as themselves, not as property bags.
            var pso = item is null ? null : PSObject.AsPSObject(item);
            switch (frame.Tag)
            {
                case ChildProtocol.Tags.Output:
                    cmdlet.WriteObject(item);
                    break;
                case ChildProtocol.Tags.Error:
                    cmdlet.WriteError(errorTarget is null ? ToErrorRecord(pso, child) : Retarget(ToErrorRecord(pso, child), errorTarget));
                    break;
                case ChildProtocol.Tags.Warning:
                    cmdlet.WriteWarning(Text(pso, "Message"));
                    break;
                case ChildProtocol.Tags.Verbose:
                    WriteAlways(cmdlet, "Verbose", "VerbosePreference", Text(pso, "Message"), cmdlet.WriteVerbose, m => cmdlet.Host.UI.WriteVerboseLine(m));
                    break;
                case ChildProtocol.Tags.Debug:
                    WriteAlways(cmdlet, "Debug", "DebugPreference", Text(pso, "Message"), cmdlet.WriteDebug, m => cmdlet.Host.UI.WriteDebugLine(m));
                    break;
                case ChildProtocol.Tags.Information:
                    cmdlet.WriteInformation(ToInformationRecord(pso));
                    break;
                case ChildProtocol.Tags.Progress:
                    if (ToProgressRecord(pso) is ProgressRecord progress)
                    {
                        cmdlet.WriteProgress(progress);
                    }
                    break;
                default:
                    break; // a frame of a later protocol revision this one does not know: ignored, by the protocol's rule
            }
        }

        /// <summary>Verbose and debug records the child chose to emit are shown whatever the receiver's preference, as
        /// Receive-Job shows a job's: into the stream when the receiver asked for it (-Verbose, $VerbosePreference =
        /// 'Continue'; redirectable, a host's Streams.Verbose), else straight on the host. Never through Inquire: that
        /// would prompt, and throws in a non-interactive session (Receive-Job overrides Inquire the same way).</summary>
        private static void WriteAlways(PSCmdlet cmdlet, string switchName, string preferenceVariable, string message,
            Action<string> toStream, Action<string> toHost)
        {
            ActionPreference preference;
            if (cmdlet.MyInvocation.BoundParameters.TryGetValue(switchName, out object? bound))
            {
                bool on = bound is SwitchParameter sw ? sw.IsPresent : LanguagePrimitives.IsTrue(bound);
                preference = on ? ActionPreference.Continue : ActionPreference.SilentlyContinue;
            }
            else
            {
                object? value = cmdlet.GetVariableValue(preferenceVariable);
                preference = value is ActionPreference p ? p
                    : value != null && Enum.TryParse(value.ToString(), true, out ActionPreference parsed) ? parsed
                    : ActionPreference.SilentlyContinue;
            }
            if (preference == ActionPreference.Continue || preference == ActionPreference.Stop)
            {
                toStream(message);
            }
            else
            {
                toHost(message);
            }
        }

        private static string Text(PSObject? pso, string property) =>
            pso?.Properties[property]?.Value?.ToString() ?? pso?.ToString() ?? string.Empty;

        private static object? Value(PSObject? pso, string property)
        {
            object? v = pso?.Properties[property]?.Value;
            return v is PSObject p && !(p.BaseObject is PSCustomObject) ? p.BaseObject : v;
        }

        /// <summary>The InformationRecord whole: Source, Tags, time, user, computer, ids, and a HostInformationMessage
        /// (Write-Host) with its colours and NoNewLine.</summary>
        private static InformationRecord ToInformationRecord(PSObject? pso)
        {
            object? data = pso?.Properties["MessageData"]?.Value;
            if (data is PSObject dataObj && dataObj.Properties["Message"] != null && dataObj.Properties["NoNewLine"] != null)
            {
                var host = new HostInformationMessage
                {
                    Message = dataObj.Properties["Message"].Value?.ToString() ?? string.Empty,
                    NoNewLine = LanguagePrimitives.IsTrue(dataObj.Properties["NoNewLine"].Value),
                };
                if (Value(dataObj, "ForegroundColor") is object fg && LanguagePrimitives.TryConvertTo(fg, out ConsoleColor f))
                {
                    host.ForegroundColor = f;
                }
                if (Value(dataObj, "BackgroundColor") is object bg && LanguagePrimitives.TryConvertTo(bg, out ConsoleColor b))
                {
                    host.BackgroundColor = b;
                }
                data = host;
            }
            var record = new InformationRecord(data, Text(pso, "Source"));
            if (Value(pso, "TimeGenerated") is DateTime time)
            {
                record.TimeGenerated = time;
            }
            if (Value(pso, "User") is string user)
            {
                record.User = user;
            }
            if (Value(pso, "Computer") is string computer)
            {
                record.Computer = computer;
            }
            if (Value(pso, "ProcessId") is object pid && LanguagePrimitives.TryConvertTo(pid, out uint processId))
            {
                record.ProcessId = processId;
            }
            if (Value(pso, "NativeThreadId") is object ntid && LanguagePrimitives.TryConvertTo(ntid, out uint nativeThreadId))
            {
                record.NativeThreadId = nativeThreadId;
            }
            if (Value(pso, "ManagedThreadId") is object mtid && LanguagePrimitives.TryConvertTo(mtid, out uint managedThreadId))
            {
                record.ManagedThreadId = managedThreadId;
            }
            if (pso?.Properties["Tags"]?.Value is PSObject tagsObj && tagsObj.BaseObject is System.Collections.IEnumerable list)
            {
                foreach (var t in list)
                {
                    record.Tags.Add(t?.ToString() ?? string.Empty);
                }
            }
            return record;
        }

        private static ProgressRecord? ToProgressRecord(PSObject? pso)
        {
            if (pso?.BaseObject is ProgressRecord rehydrated)
            {
                return rehydrated;
            }
            if (pso is null || !LanguagePrimitives.TryConvertTo(Value(pso, "ActivityId"), out int id))
            {
                return null;
            }
            string activity = Text(pso, "Activity");
            string status = Text(pso, "StatusDescription");
            var record = new ProgressRecord(id, activity.Length > 0 ? activity : " ", status.Length > 0 ? status : " ");
            if (LanguagePrimitives.TryConvertTo(Value(pso, "ParentActivityId"), out int parent))
            {
                record.ParentActivityId = parent;
            }
            if (LanguagePrimitives.TryConvertTo(Value(pso, "PercentComplete"), out int percent))
            {
                record.PercentComplete = Math.Max(-1, Math.Min(100, percent));
            }
            if (LanguagePrimitives.TryConvertTo(Value(pso, "SecondsRemaining"), out int seconds))
            {
                record.SecondsRemaining = seconds;
            }
            if (Value(pso, "CurrentOperation") is string op && op.Length > 0)
            {
                record.CurrentOperation = op;
            }
            if (Value(pso, "RecordType") is object type && LanguagePrimitives.TryConvertTo(type, out ProgressRecordType recordType))
            {
                record.RecordType = recordType;
            }
            return record;
        }

        /// <summary>The same error with another TargetObject (message, id, category and details kept).</summary>
        internal static ErrorRecord Retarget(ErrorRecord record, object target)
        {
            var copy = new ErrorRecord(record.Exception, record.FullyQualifiedErrorId, record.CategoryInfo.Category, target)
            {
                ErrorDetails = record.ErrorDetails,
            };
            copy.CategoryInfo.Activity = record.CategoryInfo.Activity;
            copy.CategoryInfo.Reason = record.CategoryInfo.Reason;
            return copy;
        }

        private static readonly MethodInfo? FromPSObject =
            typeof(ErrorRecord).GetMethod("FromPSObjectForRemoting", BindingFlags.NonPublic | BindingFlags.Static, null, new[] { typeof(PSObject) }, null);

        private static readonly PropertyInfo? PreserveInvocationInfo =
            typeof(ErrorRecord).GetProperty("PreserveInvocationInfoOnce", BindingFlags.NonPublic | BindingFlags.Instance);

        /// <summary>The child's ErrorRecord with its identity, as Receive-Job writes a job's: FullyQualifiedErrorId,
        /// CategoryInfo (activity, reason, target), TargetObject, ErrorDetails and script stack trace. PowerShell's own
        /// rehydration (ErrorRecord.FromPSObjectForRemoting) and its keep-the-invocation flag are internal, reached by
        /// reflection; without them (another PowerShell build) the record is rebuilt from the public surface and the
        /// FQID gets this cmdlet's suffix when written.</summary>
        private static ErrorRecord ToErrorRecord(PSObject? pso, ChildProcess child)
        {
            if (pso != null && FromPSObject != null && PreserveInvocationInfo != null)
            {
                try
                {
                    if (FromPSObject.Invoke(null, new object[] { pso }) is ErrorRecord rehydrated)
                    {
                        PreserveInvocationInfo.SetValue(rehydrated, true); // WriteError keeps the child's identity
                        return rehydrated;
                    }
                }
                catch (TargetInvocationException)
                {
                    // not a whole ErrorRecord: rebuild below
                }
            }
            string message = pso?.Properties["Exception"]?.Value is PSObject ex && ex.Properties["Message"]?.Value is object m
                ? m.ToString() ?? string.Empty
                : pso?.ToString() ?? "error in child process";
            string id = pso?.Properties["FullyQualifiedErrorId"]?.Value?.ToString() ?? "ChildProcessError";
            var category = ErrorCategory.NotSpecified;
            string? categoryText = pso?.Properties["ErrorCategory_Category"]?.Value?.ToString();
            if (categoryText != null && Enum.TryParse(categoryText, out ErrorCategory parsed))
            {
                category = parsed;
            }
            var record = new ErrorRecord(new ChildProcessErrorException(message, child.Name), id, category, Value(pso, "TargetObject") ?? child);
            record.CategoryInfo.Activity = Text(pso, "ErrorCategory_Activity");
            record.CategoryInfo.Reason = Text(pso, "ErrorCategory_Reason");
            record.CategoryInfo.TargetName = Text(pso, "ErrorCategory_TargetName");
            record.CategoryInfo.TargetType = Text(pso, "ErrorCategory_TargetType");
            return record;
        }
    }

    /// <summary>An error raised inside a scriptblock child, rehydrated in the session (when PowerShell's own
    /// rehydration is not available).</summary>
    public sealed class ChildProcessErrorException : Exception
    {
        public ChildProcessErrorException(string message, string childName)
            : base(message)
        {
            ChildName = childName;
        }

        public string ChildName { get; }
    }

    /// <summary>A line a child wrote to stderr.</summary>
    public sealed class ChildStandardErrorException : Exception
    {
        public ChildStandardErrorException(string line)
            : base(line)
        {
        }
    }
}
