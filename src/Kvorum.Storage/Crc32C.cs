using System.Buffers.Binary;
using System.Numerics;

namespace Kvorum.Storage;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every WAL record and snapshot file.
/// </summary>
/// <remarks>
/// System.IO.Hashing (as of 10.0) offers only CRC-32/IEEE as <c>Crc32</c>; CRC-32C is computed here with
/// <see cref="BitOperations.Crc32C(uint, ulong)"/>, which uses the SSE4.2 / ARMv8 CRC instructions
/// where available. Initial value and final XOR are 0xFFFFFFFF, so Compute("123456789") is 0xE3069283.
/// </remarks>
internal static class Crc32C
{
    /// <summary>Checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));

    /// <summary>The running state before any byte.</summary>
    public const uint Start = 0xFFFFFFFFu;

    /// <summary>Feeds <paramref name="data"/> into a running state.</summary>
    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data)
            state = BitOperations.Crc32C(state, b);
        return state;
    }

    /// <summary>Turns a running state into the checksum.</summary>
    public static uint Finish(uint state) => ~state;
}
