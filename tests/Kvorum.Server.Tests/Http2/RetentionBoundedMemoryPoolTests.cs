using Kvorum.Server.Http2;

namespace Kvorum.Server.Tests.Http2;

public sealed class RetentionBoundedMemoryPoolTests
{
    [Fact]
    public void Blocks_are_reused_pinned_up_to_the_retained_count_and_beyond_it_are_ordinary_arrays_left_to_the_runtime()
    {
        using var pool = new RetentionBoundedMemoryPool();
        var burst = Enumerable.Range(0, RetentionBoundedMemoryPool.RetainedBlocks + 100).Select(_ => pool.Rent()).ToList();
        Assert.All(burst, b => Assert.Equal(RetentionBoundedMemoryPool.BlockSize, b.Memory.Length));
        Assert.Equal(RetentionBoundedMemoryPool.RetainedBlocks, pool.PinnedBlocks);
        var first = burst[0];
        foreach (var b in burst)
            b.Dispose();

        // Only the pinned ones come back: the next burst reuses them, makes no new pinned one, and the first is among them.
        var again = Enumerable.Range(0, RetentionBoundedMemoryPool.RetainedBlocks + 100).Select(_ => pool.Rent()).ToList();
        Assert.Equal(RetentionBoundedMemoryPool.RetainedBlocks, pool.PinnedBlocks);
        Assert.Contains(first, again);
        Assert.Equal(RetentionBoundedMemoryPool.RetainedBlocks, again.Distinct().Count(b => burst.Contains(b)));
    }

    [Fact]
    public void A_block_larger_than_the_block_size_is_refused()
    {
        using var pool = new RetentionBoundedMemoryPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(RetentionBoundedMemoryPool.BlockSize + 1));
    }
}
