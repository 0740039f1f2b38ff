using System;
using System.Management.Automation;
using System.Threading;

namespace ProcessKit.Commands
{
    /// <summary>A selector cmdlet that blocks (waiting for exits, stop grace periods): Ctrl+C
    /// (<see cref="Cmdlet.StopProcessing"/>) cancels <see cref="Cancellation"/>, so the wait ends promptly.</summary>
    public abstract class CancellableChildCommand : ChildSelectorCommand, IDisposable
    {
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();

        /// <summary>Cancelled when the user presses Ctrl+C or the pipeline is stopped.</summary>
        protected CancellationToken Cancellation => _cancel.Token;

        protected override void StopProcessing() => _cancel.Cancel();

        public void Dispose()
        {
            _cancel.Dispose();
            GC.SuppressFinalize(this);
        }
    }
}
