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
            Task all = Any ? Task.WhenAny(_selected.Select(c => c.Exited)) : Task.WhenAll(_selected.Select(c => c.Exited));
            int ms = !MyInvocation.BoundParameters.ContainsKey(nameof(Timeout)) || double.IsPositiveInfinity(Timeout)
                ? System.Threading.Timeout.Infinite
                : (int)Math.Min(int.MaxValue, Math.Ceiling(Timeout * 1000));
            try
            {
                all.Wait(ms, Cancellation);
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
