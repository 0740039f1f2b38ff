using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>join([timeout])</c> for one or many children: event-driven (no polling), cancelled
    /// promptly by Ctrl+C, and never stopping anything on timeout.</summary>
    [Cmdlet(VerbsLifecycle.Wait, "ChildProcess", DefaultParameterSetName = InputObjectSet)]
    [OutputType(typeof(ChildProcess))]
    public sealed class WaitChildProcessCommand : CancellableChildCommand
    {
        private readonly List<ChildProcess> _selected = new List<ChildProcess>();

        /// <summary>Seconds; fractions allowed; 0 polls; absent or +Infinity waits forever. NaN is refused (below
        /// the range, as double.CompareTo orders it), and so is a negative value.</summary>
        [Parameter]
        [ValidateRange(0.0, double.PositiveInfinity)]
        public double Timeout { get; set; } = -1;

        [Parameter]
        public SwitchParameter Any { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>A wait on several children that lasts longer than this shows progress (n of m exited); a short
        /// one writes none.</summary>
        private const int ProgressDelayMs = 1000;

        /// <summary>Activity id of the progress records (any fixed id: one bar per Wait-ChildProcess).</summary>
        private const int ProgressActivityId = 0x504B; // "PK"

        /// <summary>The rest of a long wait for all of them: a progress record at each exit, until all exited, the
        /// time is up (<paramref name="ms"/>, -1: never) or Ctrl+C; then the bar is completed. Event-driven: the
        /// record is written on this (the pipeline's) thread when an exit wakes it.</summary>
        private void WaitWithProgress(Task all, int ms)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int total = _selected.Count;
            var record = new ProgressRecord(ProgressActivityId, "Wait-ChildProcess", "waiting");
            try
            {
                while (true)
                {
                    var running = _selected.Where(c => c.IsAlive).ToList();
                    int exited = total - running.Count;
                    record.StatusDescription = $"{exited} of {total} child processes exited";
                    record.PercentComplete = exited * 100 / total;
                    record.CurrentOperation = running.Count == 0 ? string.Empty : "waiting for " + string.Join(", ", running.Take(3).Select(c => c.Name)) + (running.Count > 3 ? ", ..." : string.Empty);
                    WriteProgress(record);
                    if (running.Count == 0)
                    {
                        return;
                    }
                    int left = ms == System.Threading.Timeout.Infinite ? ms : (int)Math.Max(0, ms - clock.ElapsedMilliseconds);
                    Task.WhenAny(running.Select(c => c.Exited)).Wait(left, Cancellation);
                    if (left == 0 || (ms != System.Threading.Timeout.Infinite && clock.ElapsedMilliseconds >= ms))
                    {
                        return;
                    }
                }
            }
            finally
            {
                record.RecordType = ProgressRecordType.Completed;
                WriteProgress(record);
            }
        }

        protected override void ProcessRecord()
        {
            foreach (var child in SelectChildren())
            {
                if (!_selected.Contains(child))
                {
                    _selected.Add(child);
                }
            }
        }

        protected override void EndProcessing()
        {
            if (_selected.Count == 0)
            {
                return;
            }
            // One child: its own task, without the extra thread-pool hop of WhenAll/WhenAny.
            Task all = _selected.Count == 1 ? _selected[0].Exited
                : Any ? Task.WhenAny(_selected.Select(c => c.Exited)) : Task.WhenAll(_selected.Select(c => c.Exited));
            int ms = !MyInvocation.BoundParameters.ContainsKey(nameof(Timeout)) || double.IsPositiveInfinity(Timeout)
                ? System.Threading.Timeout.Infinite
                : (int)Math.Min(int.MaxValue, Math.Ceiling(Timeout * 1000));
            try
            {
                // Waiting for several: after the first second, the rest of the wait shows progress.
                bool several = _selected.Count > 1 && !Any && (ms == System.Threading.Timeout.Infinite || ms > ProgressDelayMs);
                if (!all.Wait(several ? ProgressDelayMs : ms, Cancellation) && several)
                {
                    WaitWithProgress(all, ms == System.Threading.Timeout.Infinite ? ms : ms - ProgressDelayMs);
                }
            }
            catch (OperationCanceledException)
            {
                return; // Ctrl+C: stop waiting, leave the children as they are
            }
            var running = _selected.Where(c => c.IsAlive).ToList();
            bool satisfied = Any ? running.Count < _selected.Count : running.Count == 0;
            if (!satisfied)
            {
                string names = string.Join(", ", running.Select(c => $"{c.Name} (pid {c.Id})"));
                WriteError(ErrorHelper.Timeout($"Timed out after {Timeout:0.###} s waiting for child process(es) still running: {names}.", running.ToArray()));
            }
            if (PassThru)
            {
                foreach (var child in _selected.Where(c => !c.IsAlive))
                {
                    WriteObject(child);
                }
            }
        }
    }
}
