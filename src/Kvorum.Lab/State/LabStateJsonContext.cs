using System.Text.Json.Serialization;

namespace Kvorum.Lab.State;

/// <summary>Source-generated JSON for the state file.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(LabState))]
internal sealed partial class LabStateJsonContext : JsonSerializerContext;
