namespace Kvorum.Lab.Checking;

/// <summary>
/// An operation as the search sees it: its request and response and its real-time interval.
/// </summary>
/// <param name="Input">The request.</param>
/// <param name="Output">The response; ignored when <see cref="IsOptional"/>.</param>
/// <param name="InvokedAt">Start of the interval.</param>
/// <param name="CompletedAt">
/// End of the interval, or null for an indeterminate operation: its interval never ends, and the search
/// may also leave it out. Invariant: when set, <c>InvokedAt &lt;= CompletedAt</c>.
/// </param>
internal readonly record struct ModelOperation<TInput, TOutput>(TInput Input, TOutput? Output, long InvokedAt, long? CompletedAt)
{
    /// <summary>True for an indeterminate operation: it may take effect after its invocation, or never.</summary>
    public bool IsOptional => CompletedAt is null;
}
