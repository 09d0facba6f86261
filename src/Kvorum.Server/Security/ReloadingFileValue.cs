namespace Kvorum.Server.Security;

/// <summary>
/// A value read from files, read again when one of them changes (its length or last write time), so that an operator
/// can rotate certificates, CAs and CRLs without restarting the member. Checked each time <see cref="Current"/> is read:
/// once per TLS handshake, a few <c>stat</c> calls on connections that live for hours.
/// </summary>
/// <typeparam name="T">What the files hold.</typeparam>
/// <remarks>
/// A change that does not load (a certificate copied before its key, a half-written file) keeps the value in use and is
/// tried again on the next read, so that a rotation done in two steps never leaves the member without a certificate.
/// Thread-safe: handshakes read it concurrently.
/// </remarks>
internal sealed class ReloadingFileValue<T>
    where T : class
{
    private readonly string[] _paths;
    private readonly Func<T> _load;
    private readonly Action<string>? _reloadFailed;
    private readonly Lock _gate = new();
    private (T Value, string Stamp) _current;
    private string? _failedStamp;

    /// <summary>Loads the value now.</summary>
    /// <param name="load">Reads the files; throws <see cref="TlsSetupException"/> when they cannot be used.</param>
    /// <param name="reloadFailed">Told, once per change, why a changed file could not be loaded.</param>
    /// <param name="paths">The files <paramref name="load"/> reads.</param>
    /// <exception cref="TlsSetupException">The files cannot be used.</exception>
    public ReloadingFileValue(Func<T> load, Action<string>? reloadFailed, params string[] paths)
    {
        ArgumentNullException.ThrowIfNull(load);
        _paths = paths;
        _load = load;
        _reloadFailed = reloadFailed;
        var stamp = Stamp();
        _current = (load(), stamp);
    }

    /// <summary>Raised after a changed file was loaded.</summary>
    public event Action<T>? Reloaded;

    /// <summary>The value of the files as they are now, or as they were last when they could be loaded.</summary>
    public T Current
    {
        get
        {
            var stamp = Stamp();
            lock (_gate)
            {
                if (stamp == _current.Stamp || stamp == _failedStamp)
                    return _current.Value;
                try
                {
                    _current = (_load(), stamp);
                    _failedStamp = null;
                }
                catch (TlsSetupException e)
                {
                    _failedStamp = stamp;
                    _reloadFailed?.Invoke(e.Message);
                    return _current.Value;
                }
            }
            Reloaded?.Invoke(_current.Value);
            return _current.Value;
        }
    }

    private string Stamp() => string.Join('|', _paths.Select(path =>
    {
        var info = new FileInfo(path);
        return info.Exists ? $"{info.Length}@{info.LastWriteTimeUtc.Ticks}" : "-";
    }));
}
