namespace Kvorum.Server.Tests.Errors;

/// <summary>
/// The rule that keeps the catalogue the only home of etcd's error texts: no source file under <c>src/</c> but
/// <c>Kvorum.Etcd/Errors/EtcdErrors.cs</c> holds a string literal that starts with <c>etcdserver:</c> or <c>mvcc:</c>.
/// Comments may quote the texts.
/// </summary>
public sealed class ErrorTextRuleTests
{
    private static readonly string[] Prefixes = ["etcdserver:", "mvcc:"];

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Kvorum.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no Kvorum.slnx above {AppContext.BaseDirectory}");
    }

    private static IEnumerable<string> ErrorTexts(string source) =>
        CSharpStringLiterals.In(source).Where(l => Prefixes.Any(p => l.StartsWith(p, StringComparison.Ordinal)));

    [Fact]
    public void Only_the_catalogue_writes_an_etcd_error_text()
    {
        var src = Path.Combine(RepositoryRoot(), "src");
        var catalogue = Path.Combine(src, "Kvorum.Etcd", "Errors", "EtcdErrors.cs");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"))
            .ToList();
        Assert.Contains(catalogue, files);
        Assert.NotEmpty(ErrorTexts(File.ReadAllText(catalogue)));

        var offenders = files
            .Where(f => f != catalogue)
            .SelectMany(f => ErrorTexts(File.ReadAllText(f)).Select(text => $"{Path.GetRelativePath(src, f)}: \"{text}\""))
            .ToList();
        Assert.Empty(offenders);
    }

    [Theory]
    [InlineData("var e = \"etcdserver: no leader\";", "etcdserver: no leader")]
    [InlineData("var e = $\"etcdserver: invalid peer URL {url}\";", "etcdserver: invalid peer URL ")]
    [InlineData("var e = @\"mvcc: x\";", "mvcc: x")]
    [InlineData("var e = $@\"mvcc: {{x}}\";", "mvcc: {{x}}")]
    [InlineData("var e = \"\"\"\netcdserver: raw\n\"\"\";", "\netcdserver: raw\n")]
    [InlineData("var e = $\"{(ok ? \"a\" : \"etcdserver: nested\")}\";", "etcdserver: nested")]
    public void A_literal_is_found_wherever_it_is_written(string source, string text) =>
        Assert.Contains(text, CSharpStringLiterals.In(source));

    [Theory]
    [InlineData("// as etcd says, \"etcdserver: no leader\"\nvar x = 1;")]
    [InlineData("/* \"etcdserver: no leader\" */ var x = 1;")]
    [InlineData("/// <c>\"etcdserver: no leader\"</c>\nvar x = 1;")]
    [InlineData("var q = '\"'; // \"etcdserver: no leader\"")]
    [InlineData("var url = \"http://host\"; var y = \"not etcdserver: here\";")]
    public void A_text_quoted_in_a_comment_or_inside_another_literal_is_not_one(string source) =>
        Assert.Empty(ErrorTexts(source));
}
