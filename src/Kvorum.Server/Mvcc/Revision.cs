namespace Kvorum.Server.Mvcc;

/// <summary>
/// The position of one change in the store's history: <see cref="Main"/> is the store revision
/// (one per write request or txn), <see cref="Sub"/> numbers the changes made within it.
/// Ordered by main, then sub.
/// </summary>
/// <param name="Main">The store revision the change belongs to.</param>
/// <param name="Sub">The change's index within that revision, from 0.</param>
internal readonly record struct Revision(long Main, long Sub) : IComparable<Revision>
{
    /// <inheritdoc />
    public int CompareTo(Revision other)
    {
        var byMain = Main.CompareTo(other.Main);
        return byMain != 0 ? byMain : Sub.CompareTo(other.Sub);
    }

    /// <summary>True when <paramref name="left"/> comes before <paramref name="right"/>.</summary>
    public static bool operator <(Revision left, Revision right) => left.CompareTo(right) < 0;

    /// <summary>True when <paramref name="left"/> comes after <paramref name="right"/>.</summary>
    public static bool operator >(Revision left, Revision right) => left.CompareTo(right) > 0;

    /// <summary>True when <paramref name="left"/> does not come after <paramref name="right"/>.</summary>
    public static bool operator <=(Revision left, Revision right) => left.CompareTo(right) <= 0;

    /// <summary>True when <paramref name="left"/> does not come before <paramref name="right"/>.</summary>
    public static bool operator >=(Revision left, Revision right) => left.CompareTo(right) >= 0;

    /// <inheritdoc />
    public override string ToString() => $"{Main}.{Sub}";
}
