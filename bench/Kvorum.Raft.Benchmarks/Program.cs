using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Kvorum.Raft.Benchmarks.ReplicationBenchmark).Assembly).Run(args);
