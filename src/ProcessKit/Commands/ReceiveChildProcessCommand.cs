using System;
using System.Management.Automation;
using System.Threading;

namespace ProcessKit.Commands
{
    /// <summary>What a child produced so far (consumed unless -Keep): objects and stream records from a scriptblock
    /// child, text lines from a program; stderr as error records. -Wait first waits for the child to exit.</summary>
    [Cmdlet(VerbsCommunications.Receive, "ChildProcess", DefaultParameterSetName = InputObjectSet)]
    [OutputType(typeof(object))]
    public sealed class ReceiveChildProcessCommand : ChildSelectorCommand, IDisposable
    {
        /// <summary>After exit, how long -Wait gives the pipes to reach end of file: a grandchild that inherited
        /// them may keep them open for ever, and must not hang the receive.</summary>
        private static readonly TimeSpan PipeDrainAfterExit = TimeSpan.FromMilliseconds(500);

        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();

        [Parameter]
        public SwitchParameter Keep { get; set; }

        [Parameter]
        public SwitchParameter Wait { get; set; }

        /// <summary>Stderr lines as plain strings (after the stdout lines) instead of error records.</summary>
        [Parameter]
        public SwitchParameter StandardErrorAsText { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var child in SelectChildren())
            {
                if (child.Removed)
                {
                    WriteError(ErrorHelper.WasRemoved(child));
                    continue;
                }
                if (Wait && !child.WaitForExit(null, _cancel.Token))
                {
                    return; // Ctrl+C
                }
                if (Wait)
                {
                    try
                    {
                        System.Threading.Tasks.Task.WhenAll(child.StandardOutput.Completion, child.StandardError.Completion, child.Records.Completion)
                            .Wait(PipeDrainAfterExit, _cancel.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return; // Ctrl+C
                    }
                }
                var records = child.Records.Read(Keep, out long droppedRecords);
                var stdout = child.StandardOutput.Read(Keep, out long droppedOut);
                var stderr = child.StandardError.Read(Keep, out long droppedErr);
                if (droppedRecords + droppedOut + droppedErr > 0)
                {
                    WriteWarning($"{child.Name} (pid {child.Id}) produced more output than the {OutputBuffer.DefaultMaxChars / (1024 * 1024)}M-character buffer per stream holds: {droppedRecords} record(s), {droppedOut} stdout and {droppedErr} stderr line(s) were dropped (the oldest ones, or a single object too large for the buffer). Use -RedirectStandardOutput/-RedirectStandardError for large output.");
                }
                ChildRecordReader.Emit(this, child, records, stdout, stderr, StandardErrorAsText);
            }
        }

        protected override void StopProcessing() => _cancel.Cancel();

        public void Dispose() => _cancel.Dispose();
    }
}
