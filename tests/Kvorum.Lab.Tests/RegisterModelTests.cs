using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Tests;

public class RegisterModelTests
{
    private static readonly RegisterModel Model = RegisterModel.Instance;

    [Fact]
    public void Get_accepts_only_the_current_value()
    {
        Assert.True(Model.TryStep("a", KvInput.Get("k"), KvOutput.Read("a"), out var next));
        Assert.Equal("a", next);
        Assert.False(Model.TryStep("a", KvInput.Get("k"), KvOutput.Read("b"), out _));
        Assert.False(Model.TryStep("a", KvInput.Get("k"), KvOutput.Read(null), out _));
        Assert.True(Model.TryStep(null, KvInput.Get("k"), KvOutput.Read(null), out _));
    }

    [Fact]
    public void Put_always_writes()
    {
        Assert.True(Model.TryStep(null, KvInput.Put("k", "a"), KvOutput.Written, out var next));
        Assert.Equal("a", next);
    }

    [Fact]
    public void Cas_compares_on_value_and_null_means_absent()
    {
        Assert.True(Model.TryStep("a", KvInput.Cas("k", "a", "b"), KvOutput.Swapped(true), out var next));
        Assert.Equal("b", next);
        Assert.False(Model.TryStep("a", KvInput.Cas("k", "a", "b"), KvOutput.Swapped(false), out _));
        Assert.True(Model.TryStep("x", KvInput.Cas("k", "a", "b"), KvOutput.Swapped(false), out next));
        Assert.Equal("x", next);
        Assert.False(Model.TryStep("x", KvInput.Cas("k", "a", "b"), KvOutput.Swapped(true), out _));
        Assert.True(Model.TryStep(null, KvInput.Cas("k", null, "b"), KvOutput.Swapped(true), out next));
        Assert.Equal("b", next);
    }

    [Fact]
    public void Unobserved_steps_apply_the_operation_as_the_store_would()
    {
        Assert.Equal("a", Model.StepUnobserved("a", KvInput.Get("k")));
        Assert.Equal("b", Model.StepUnobserved("a", KvInput.Put("k", "b")));
        Assert.Equal("c", Model.StepUnobserved("a", KvInput.Cas("k", "a", "c")));
        Assert.Equal("x", Model.StepUnobserved("x", KvInput.Cas("k", "a", "c")));
        Assert.True(Model.IsReadOnly(KvInput.Get("k")));
        Assert.False(Model.IsReadOnly(KvInput.Cas("k", "a", "c")));
    }
}
