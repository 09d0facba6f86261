using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Kvorum.Server.Http2;

/// <summary>
/// The buffers Kestrel reads and writes connections with: 4 KiB blocks, pinned and reused up to
/// <see cref="RetainedBlocks"/> per pool, and beyond that ordinary arrays that the runtime frees once they are returned.
/// </summary>
/// <remarks>
/// Why: Kestrel's own pool keeps every block it ever handed out, pinned. Answers waiting for clients that never read
/// them are held in such blocks, so after a burst of those clients the pool held all of that memory for good, where no
/// collection can free it (and the pinned heap is never compacted). With this pool, what a burst needs beyond the
/// steady state's share is ordinary garbage once the burst is over (see <see cref="IdleMemoryReturn"/>).
/// </remarks>
internal sealed class RetentionBoundedMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every block, as Kestrel's own pool.</summary>
    public const int BlockSize = 4096;

    /// <summary>Pinned blocks kept per pool: 16 MiB, enough for the buffers of a member's steady load.</summary>
    public const int RetainedBlocks = 4096;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _pinned;
    private volatile bool _disposed;

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <summary>Pinned blocks made so far (in use or free); never more than <see cref="RetainedBlocks"/>.</summary>
    public int PinnedBlocks => Volatile.Read(ref _pinned);

    /// <inheritdoc/>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
            return block;
        var pinned = Interlocked.Increment(ref _pinned) <= RetainedBlocks;
        if (!pinned)
            Interlocked.Decrement(ref _pinned);
        return new Block(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned), pinned);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing) => _disposed = true;

    private void Return(Block block)
    {
        // An unpinned block is left to the runtime; a pinned one is kept for the next rent.
        if (block.Pinned && !_disposed)
            _free.Enqueue(block);
    }

    /// <summary>One block; disposing it gives it back to its pool.</summary>
    private sealed class Block(RetentionBoundedMemoryPool pool, byte[] array, bool pinned) : IMemoryOwner<byte>
    {
        public bool Pinned { get; } = pinned;

        public Memory<byte> Memory { get; } = array;

        public void Dispose() => pool.Return(this);
    }
}

/// <summary>Makes Kestrel's transports and connections use a <see cref="RetentionBoundedMemoryPool"/>.</summary>
internal sealed class RetentionBoundedMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    /// <inheritdoc/>
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new RetentionBoundedMemoryPool();
}
