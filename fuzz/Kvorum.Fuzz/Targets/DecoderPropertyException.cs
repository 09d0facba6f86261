namespace Kvorum.Fuzz.Targets;

/// <summary>
/// A decoder broke its contract on some input: what it accepted does not encode back to the same thing. Never
/// caught by a target, so that afl-fuzz counts it as a crash and the property tests as a failure.
/// </summary>
public sealed class DecoderPropertyException : Exception
{
    /// <summary>Creates one without a message.</summary>
    public DecoderPropertyException()
    {
    }

    /// <summary>Creates one saying what broke.</summary>
    public DecoderPropertyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates one saying what broke, and why.</summary>
    public DecoderPropertyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Throws unless <paramref name="expected"/> and <paramref name="actual"/> hold the same bytes.</summary>
    public static void ThrowIfDifferent(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        if (!expected.SequenceEqual(actual))
            throw new DecoderPropertyException($"{what}: {Convert.ToHexString(expected)} became {Convert.ToHexString(actual)}");
    }
}
