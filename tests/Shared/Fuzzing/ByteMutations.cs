namespace Kvorum.Tests.Fuzzing;

/// <summary>
/// Makes the inputs of a random-bytes test: uniform random bytes, and valid encodings damaged the ways a disk or a
/// hostile peer damages them (bit flips, overwritten bytes, truncation, splices of two encodings, inserted and deleted
/// runs). Everything comes from one <see cref="Random"/>, so a seed names an input.
/// </summary>
internal static class ByteMutations
{
    /// <summary>Values that sit on the edges of length and count fields.</summary>
    private static readonly byte[] EdgeBytes = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe];

    /// <summary>One input: random bytes a quarter of the time, otherwise a mutation of one of <paramref name="valid"/>.</summary>
    public static byte[] Next(Random random, IReadOnlyList<byte[]> valid)
    {
        if (valid.Count == 0 || random.Next(4) == 0)
            return RandomBytes(random, valid.Count == 0 ? 256 : valid.Max(v => v.Length) * 2 + 16);
        var input = valid[random.Next(valid.Count)];
        var rounds = 1 + random.Next(3);
        for (var i = 0; i < rounds; i++)
            input = Mutate(random, input, valid);
        return input;
    }

    /// <summary>Up to <paramref name="maxLength"/> uniform random bytes.</summary>
    public static byte[] RandomBytes(Random random, int maxLength)
    {
        var bytes = new byte[random.Next(maxLength + 1)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A copy of <paramref name="input"/> with one mutation applied.</summary>
    public static byte[] Mutate(Random random, byte[] input, IReadOnlyList<byte[]> others)
    {
        var bytes = (byte[])input.Clone();
        switch (random.Next(7))
        {
            case 0 when bytes.Length > 0: // bit flips
                for (var n = 1 + random.Next(4); n > 0; n--)
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 1 when bytes.Length > 0: // an edge value
                bytes[random.Next(bytes.Length)] = EdgeBytes[random.Next(EdgeBytes.Length)];
                return bytes;
            case 2: // truncation
                return bytes[..random.Next(bytes.Length + 1)];
            case 3: // splice: the head of this one, the tail of another
                var other = others[random.Next(others.Count)];
                var cut = random.Next(bytes.Length + 1);
                var from = random.Next(other.Length + 1);
                return [.. bytes[..cut], .. other[from..]];
            case 4: // inserted random run
                var at = random.Next(bytes.Length + 1);
                var run = new byte[1 + random.Next(16)];
                random.NextBytes(run);
                return [.. bytes[..at], .. run, .. bytes[at..]];
            case 5 when bytes.Length > 0: // deleted run
                var start = random.Next(bytes.Length);
                var end = Math.Min(bytes.Length, start + 1 + random.Next(16));
                return [.. bytes[..start], .. bytes[end..]];
            default: // a random byte
                if (bytes.Length > 0)
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
        }
    }
}
