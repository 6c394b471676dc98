using System.CommandLine;
using Streaming.Grains;
using Streaming.Grains.Placement;
using Streaming.Security;
using Streaming.Silo;
using Streaming.Training.Data;
using Streaming.Training.Native;

// Every flag's default is the settings' own (which take the service's from StreamingOptions), unless appsettings.json or a
// STREAMING_* variable sets it (ConfiguredDefaults); a flag on the command line wins over both.
var defaults = new SiloSettings();
ConfiguredDefaults configured;
try
{
    configured = ConfiguredDefaults.Load(Directory.GetCurrentDirectory(), Environment.GetEnvironmentVariables());
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
var httpPort = new Option<int>("--http-port") { Description = "HTTP port for /health and /metrics", DefaultValueFactory = _ => defaults.HttpPort };
var siloPort = new Option<int>("--silo-port") { Description = "Orleans silo-to-silo port", DefaultValueFactory = _ => defaults.SiloPort };
var gatewayPort = new Option<int>("--gateway-port") { Description = "Orleans client gateway port", DefaultValueFactory = _ => defaults.GatewayPort };
var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Optimizer steps between checkpoints", DefaultValueFactory = _ => defaults.CheckpointEvery };
var evaluateEvery = new Option<int>("--evaluate-every") { Description = "Main-trajectory steps between evaluations of the live model (0: only task ends and releases)", DefaultValueFactory = _ => defaults.EvaluateEvery };
var replay = new Option<double>("--replay") { Description = "Replay mixing: fraction of every batch drawn from earlier corpora, in [0, 1)", DefaultValueFactory = _ => defaults.ReplayFraction };
var data = new Option<string>("--data") { Description = "Folder for corpora, checkpoints and state", DefaultValueFactory = _ => defaults.DataDirectory };
var device = new Option<string>("--device") { Description = "auto (CUDA when available), cpu or cuda", DefaultValueFactory = _ => defaults.Device };
var libtorch = new Option<string?>("--libtorch") { Description = $"Folder of an external libtorch (e.g. a pip PyTorch's torch/lib); also ${TorchOptions.LibTorchVariable}" };
var minFree = new Option<int>("--min-free-mb") { Description = "Below this many MiB free on the data folder's volume the silo is not ready (/health/ready)", DefaultValueFactory = _ => defaults.MinFreeMiB };
var threads = new Option<int>("--threads") { Description = "libtorch CPU threads for training", DefaultValueFactory = _ => defaults.Threads };
var trainers = new Option<int>("--trainers")
{
    Description = "How many runs this silo should train at the same time (one per GPU; on CPU one, leaving room for evaluators and Orleans): "
        + "advice for clients that start several runs, not enforced",
    DefaultValueFactory = _ => defaults.Trainers,
};
var storage = new Option<string>("--storage") { Description = "Grain state: sqlite (a file under --data), redis (--redis) or memory; redis with --cluster redis", DefaultValueFactory = _ => defaults.Storage };
var redis = new Option<string?>("--redis") { Description = "Redis for --storage redis and --cluster redis, HOST:PORT (StackExchange.Redis syntax)" };
var cluster = new Option<string>("--cluster") { Description = "Membership: localhost (this silo alone) or redis (silos sharing --redis; reminders there too)", DefaultValueFactory = _ => defaults.Cluster };
var advertiseIp = new Option<string?>("--advertise-ip") { Description = "With --cluster redis: the IP other silos and clients reach this silo at (default: Orleans' choice)" };
var credentials = new Option<string?>("--credentials")
{
    Description = "The cluster credential (a PFX; `streaming credentials create FILE` makes one) that every silo and client of the cluster presents; "
        + $"unset: {CredentialLocation.DefaultPath(Environment.GetEnvironmentVariables())}, created at the first start",
};
var corpusRoots = new Option<string?>("--corpus-roots")
{
    Description = "Folders (DIR[,DIR...]) that the corpus paths clients name (`ingest --on-silo`) must lie in, symbolic links resolved; unset: "
        + "any path the silo can read (fine for a silo on one's own machine, not for a shared one). http(s) URLs and uploads are allowed either way",
};
var maxDownload = new Option<int>("--max-download-mb")
{
    Description = "Largest corpus file, in MiB as sent, that `streaming ingest URL` may download",
    DefaultValueFactory = _ => defaults.MaxDownloadMiB,
};
var maxUpload = new Option<int>("--max-upload-mb")
{
    Description = "Largest corpus, in MiB (a folder's files together), that `streaming ingest PATH` may upload from a client",
    DefaultValueFactory = _ => defaults.MaxUploadMiB,
};
var demo = new Option<string[]>("--demo")
{
    Description = "Train on these corpora (default: the shipped samples) one after another, show progress, print results and exit",
    AllowMultipleArgumentsPerToken = true,
    Arity = ArgumentArity.ZeroOrMore,
};

Option[] settable = [httpPort, siloPort, gatewayPort, data, device, libtorch, threads, trainers, checkpointEvery, evaluateEvery, replay, minFree, storage, redis, cluster, advertiseIp,
    credentials, corpusRoots, maxDownload, maxUpload];
try
{
    configured.RejectUnknownFileKeys(settable);
    foreach (var option in new Option<int>[] { httpPort, siloPort, gatewayPort, threads, trainers, checkpointEvery, evaluateEvery, minFree, maxDownload, maxUpload }) configured.Apply(option);
    foreach (var option in new[] { data, device, storage, cluster }) configured.Apply(option);
    foreach (var option in new[] { libtorch, redis, advertiseIp, credentials, corpusRoots }) configured.Apply(option);
    configured.Apply(replay);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

var root = new RootCommand("streaming-silo: the Orleans silo that hosts Streaming's corpora and trainers (every flag but --demo can also be "
    + $"set in the \"{ConfiguredDefaults.Section}\" section of ./{ConfiguredDefaults.FileName} or as {ConfiguredDefaults.EnvironmentPrefix}FLAG_NAME)");
foreach (var option in settable.Append(demo)) root.Options.Add(option);
root.SetAction(async (parse, cancellation) =>
{
    SiloSettings settings = new()
    {
        HttpPort = parse.GetValue(httpPort),
        SiloPort = parse.GetValue(siloPort),
        GatewayPort = parse.GetValue(gatewayPort),
        CheckpointEvery = parse.GetValue(checkpointEvery),
        ReplayFraction = parse.GetValue(replay),
        EvaluateEvery = parse.GetValue(evaluateEvery),
        DataDirectory = parse.GetValue(data)!,
        Device = parse.GetValue(device)!,
        LibTorch = parse.GetValue(libtorch),
        Threads = parse.GetValue(threads),
        Trainers = parse.GetValue(trainers),
        MinFreeMiB = parse.GetValue(minFree),
        Storage = parse.GetValue(storage)!,
        Redis = parse.GetValue(redis),
        Cluster = parse.GetValue(cluster)!,
        AdvertiseIp = parse.GetValue(advertiseIp),
        Credentials = parse.GetValue(credentials),
        CorpusRoots = parse.GetValue(corpusRoots),
        MaxDownloadMiB = parse.GetValue(maxDownload),
        MaxUploadMiB = parse.GetValue(maxUpload),
    };
    // A cluster's silos must share grain state, so there the default storage is the cluster's Redis.
    if (settings.Cluster == "redis" && parse.GetResult(storage) is null or { Implicit: true } && !configured.Sets(storage))
        settings = settings with { Storage = "redis" };
    var demoMode = parse.GetResult(demo) is not null;
    ClusterCredential credential;
    try
    {
        if (demoMode)
        {
            var files = parse.GetValue(demo) is { Length: > 0 } given ? given : SampleCorpora.DemoOrder.Select(SampleCorpora.File).ToArray();
            settings = settings with { Demo = files };
        }
        settings.Validate();
        // Load libtorch before Orleans starts, so a bad --libtorch or --device fails at once, in one line.
        var selected = TorchRuntime.Initialize(new TorchOptions { Device = settings.Device, LibTorchDirectory = settings.LibTorch, Threads = settings.Threads });
        Console.Error.WriteLine($"libtorch loaded; training on {selected.type}");
        // Placement sends trainers to cuda silos: label this one by the device that actually initialized.
        settings = settings with { Accelerator = SiloAccelerator.FromDeviceType(selected.type.ToString()) };
        foreach (var path in settings.Demo)
        {
            if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"corpus '{path}' does not exist");
            // The demo ingests as a client would, so the silo would refuse it only after starting: say so now.
            if (CorpusRoots.Refusal(Path.GetFullPath(path), settings.CorpusRootFolders) is { } refusal)
                throw new ArgumentException($"the demo's corpus {refusal}: add its folder to --corpus-roots, or leave that unset");
        }
        if (settings.UsesRedis) await RedisCheck.EnsureReachableAsync(settings.Redis);
        PortCheck.EnsureFree(settings);
        var location = CredentialLocation.Resolve(settings.Credentials, Environment.GetEnvironmentVariables());
        credential = location.LoadOrCreate();
        Console.Error.WriteLine($"cluster credential {location.Path} (certificate {credential.Fingerprint}): silos and clients without it are refused");
    }
    catch (Exception e) when (e is TorchLoadException or FileNotFoundException or ArgumentException or RedisUnreachableException or PortInUseException
                                  or CredentialException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
    using var _ = credential;
    var app = SiloHost.Build(settings, credential);
    if (!demoMode)
    {
        await app.RunAsync(cancellation);
        return 0;
    }
    await app.StartAsync(cancellation);
    try
    {
        return await Demo.RunAsync(app.Services, settings.Demo, cancellation);
    }
    finally
    {
        await app.StopAsync(CancellationToken.None);
    }
});
// System.CommandLine ends the process 2 s after SIGTERM unless told otherwise; the host's own stop needs its time.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = SiloHost.ShutdownTimeout + TimeSpan.FromSeconds(10) });
