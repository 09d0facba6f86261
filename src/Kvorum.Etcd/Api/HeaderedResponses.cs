namespace Kvorum.Etcd.Api;

// The generated KV responses all carry etcd's header; naming that lets the server's KvService fill it in one place.
/// <summary>etcd's RangeResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class RangeResponse : IHasResponseHeader;

/// <summary>etcd's PutResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class PutResponse : IHasResponseHeader;

/// <summary>etcd's DeleteRangeResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class DeleteRangeResponse : IHasResponseHeader;

/// <summary>etcd's TxnResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class TxnResponse : IHasResponseHeader;

/// <summary>etcd's CompactionResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class CompactionResponse : IHasResponseHeader;
