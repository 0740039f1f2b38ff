using System;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>terminate()</c> (SIGTERM to the child's process group, SIGKILL after -GracePeriod) and,
    /// with -Force, <c>kill()</c>. Returns once the child has exited; an exited child is left as it is.</summary>
    [Cmdlet(VerbsLifecycle.Stop, "ChildProcess", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true)]
    [OutputType(typeof(ChildProcess))]
    public sealed class StopChildProcessCommand : ChildSelectorCommand, IDisposable
    {
        private readonly System.Threading.CancellationTokenSource _cancel = new System.Threading.CancellationTokenSource();

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
                if (child.IsAlive && ShouldProcess($"{child.Name} (pid {child.Id})", Force ? "Kill (SIGKILL)" : "Terminate (SIGTERM)"))
                {
                    child.Stop(Force, TimeSpan.FromSeconds(GracePeriod), Force ? "Stop-ChildProcess -Force" : "Stop-ChildProcess", _cancel.Token);
                }
                if (PassThru)
                {
                    WriteObject(child);
                }
            }
        }

        protected override void StopProcessing() => _cancel.Cancel();

        public void Dispose() => _cancel.Dispose();
    }
}
