using System.Linq;
using System.Text;
using Xunit;

namespace ProcessKit.Tests
{
    public class OutputBufferTests
    {
        private static void Feed(OutputBuffer buffer, byte[] bytes, int chunk)
        {
            for (int i = 0; i < bytes.Length; i += chunk)
            {
                int n = System.Math.Min(chunk, bytes.Length - i);
                buffer.Append(bytes.Skip(i).Take(n).ToArray(), n);
            }
        }

        [Fact]
        public void SplitsLinesAcrossChunksAndLineEndings()
        {
            var b = new OutputBuffer();
            Feed(b, Encoding.UTF8.GetBytes("one\ntwo\r\nthree\rfour"), 3);
            b.Complete();
            Assert.Equal(new[] { "one", "two", "three", "four" }, b.Read(keep: false, out long dropped));
            Assert.Equal(0, dropped);
            Assert.True(b.Completed);
        }

        [Fact]
        public void KeepsMultiByteCharactersSplitBetweenReads()
        {
            var b = new OutputBuffer();
            Feed(b, Encoding.UTF8.GetBytes("grüße 🚀 ünïcödé\n"), 1);
            Assert.Equal("grüße 🚀 ünïcödé", Assert.Single(b.Read(false, out _)));
        }

        [Fact]
        public void InvalidUtf8BecomesReplacementCharacterNotAnError()
        {
            var b = new OutputBuffer();
            b.Append(new byte[] { 0x61, 0xff, 0xfe, 0x62, 0x0a }, 5);
            string line = Assert.Single(b.Read(false, out _));
            Assert.StartsWith("a", line);
            Assert.EndsWith("b", line);
            Assert.Contains('\uFFFD', line);
        }

        [Fact]
        public void KeepLeavesLinesAndConsumingReadRemovesThem()
        {
            var b = new OutputBuffer();
            Feed(b, Encoding.UTF8.GetBytes("a\nb\n"), 64);
            Assert.Equal(2, b.Read(keep: true, out _).Count);
            Assert.Equal(2, b.Read(keep: false, out _).Count);
            Assert.Empty(b.Read(keep: false, out _));
        }

        [Fact]
        public void DropsOldestLinesBeyondTheBoundAndCountsThem()
        {
            var b = new OutputBuffer(maxChars: 100);
            for (int i = 0; i < 50; i++)
            {
                Feed(b, Encoding.UTF8.GetBytes($"line{i:00}xxxxx\n"), 64); // 11 chars a line
            }
            var lines = b.Read(false, out long dropped);
            Assert.True(lines.Sum(l => l.Length) <= 100);
            Assert.Equal("line49xxxxx", lines.Last());
            Assert.Equal(50 - lines.Count, dropped);
            Assert.True(dropped > 0);
            b.Read(false, out long droppedAgain);
            Assert.Equal(0, droppedAgain); // reported once
            Assert.Equal(dropped, b.DroppedLines);
        }

        [Fact]
        public void ALineLongerThanTheBoundIsHandedOverInPieces()
        {
            var b = new OutputBuffer(maxChars: 10);
            Feed(b, Encoding.UTF8.GetBytes(new string('x', 25)), 7);
            b.Complete();
            var lines = b.Read(false, out long dropped);
            Assert.All(lines, l => Assert.True(l.Length <= 10));
            Assert.True(dropped > 0 || lines.Sum(l => l.Length) == 25);
        }

        [Fact]
        public void ARecordLongerThanTheBoundIsDroppedWholeAndCounted()
        {
            var b = new OutputBuffer(maxChars: 10) { KeepLongLinesWhole = true };
            Feed(b, Encoding.UTF8.GetBytes("short\n" + new string('x', 25) + "\nafter\n"), 7);
            b.Complete();
            Assert.Equal(new[] { "short", "after" }, b.Read(false, out long dropped));
            Assert.Equal(1, dropped);
        }
    }
}
