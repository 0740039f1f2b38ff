using System;
using System.Collections.Generic;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>terminate()</c> (SIGTERM to the child's process group, SIGKILL after -GracePeriod) and,
    /// with -Force, <c>kill()</c>. Returns once the child has exited; an exited child is left as it is.</summary>
    [Cmdlet(VerbsLifecycle.Stop, "ChildProcess", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true)]
    [OutputType(typeof(ChildProcess))]
    public sealed class StopChildProcessCommand : CancellableChildCommand
    {
        private readonly List<ChildProcess> _toStop = new List<ChildProcess>();

        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        [ValidateRange(0.0, 86400.0)]
        public double GracePeriod { get; set; } = ChildProcess.DefaultStopGracePeriod.TotalSeconds;

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var child in SelectChildren())
            {
                if (child.IsAlive && !_toStop.Contains(child) && ShouldProcess($"{child.Name} (pid {child.Id})", Force ? "Kill (SIGKILL)" : "Terminate (SIGTERM)"))
                {
                    _toStop.Add(child);
                }
                else if (PassThru && !child.IsAlive)
                {
                    WriteObject(child);
                }
            }
        }

        /// <summary>Every selected child is signalled first, then they share one grace period: stopping 100 children
        /// that ignore SIGTERM takes one grace period, not 100.</summary>
        protected override void EndProcessing()
        {
            ChildSupervisor.Default.Stop(_toStop, Force, _ => TimeSpan.FromSeconds(GracePeriod), Force ? "Stop-ChildProcess -Force" : "Stop-ChildProcess", null, Cancellation);
            if (PassThru)
            {
                WriteObject(_toStop, enumerateCollection: true);
            }
        }
    }
}
