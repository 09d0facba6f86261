namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>The namespace tests run one at a time: they create and time real processes and links.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LabNamespacesGroup
{
    public const string Name = "lab namespaces";
}
