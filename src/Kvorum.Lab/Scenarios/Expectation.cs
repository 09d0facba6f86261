namespace Kvorum.Lab.Scenarios;

/// <summary>A prediction of the theory and whether the run bore it out.</summary>
/// <param name="Prediction">What theory says should happen.</param>
/// <param name="Held">Whether it did.</param>
/// <param name="Observed">What actually happened, with figures.</param>
internal sealed record Expectation(string Prediction, bool Held, string Observed);
