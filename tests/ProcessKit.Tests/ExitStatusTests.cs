using Xunit;

namespace ProcessKit.Tests
{
    public class ExitStatusTests
    {
        [Theory]
        [InlineData(0x0000, 0)]      // exit 0
        [InlineData(0x0100, 1)]      // exit 1
        [InlineData(0x8900, 137)]    // exit 137: must not look like SIGKILL
        [InlineData(0xff00, 255)]    // exit 255
        [InlineData(0x0009, -9)]     // SIGKILL
        [InlineData(0x000f, -15)]    // SIGTERM
        [InlineData(0x008b, -11)]    // SIGSEGV with core dump flag (0x80)
        [InlineData(0x0006, -6)]     // SIGABRT
        public void DecodesWaitStatusLikePython(int status, int expected)
        {
            Assert.Equal(expected, ExitStatus.FromWaitStatus(status));
        }

        [Theory]
        [InlineData(0, false, ChildState.Completed)]
        [InlineData(3, false, ChildState.Failed)]
        [InlineData(-15, false, ChildState.Stopped)]
        [InlineData(0, true, ChildState.Stopped)]
        [InlineData(1, true, ChildState.Stopped)]
        public void StateFollowsExitCodeAndStopRequest(int code, bool stopRequested, ChildState expected)
        {
            Assert.Equal(expected, ExitStatus.StateOf(code, stopRequested));
        }
    }
}
