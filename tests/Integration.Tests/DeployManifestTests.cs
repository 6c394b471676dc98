using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Streaming.Integration.Tests;

/// <summary>
/// deploy/k8s rendered as `kubectl apply -k` would (kustomize runs offline; no API server here) and checked
/// against the built silo: its flags, its default ports, its health endpoint; deploy/k8s/monitoring against the
/// Services it scrapes, the rule file and the dashboard it carries.
/// </summary>
public partial class DeployManifestTests
{
    const string WithGpu = "deploy/k8s";
    const string CpuOnly = "deploy/k8s/overlays/cpu-only";
    const string Monitoring = "deploy/k8s/monitoring";
    const string SiloComponent = "silo";

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void RendersWithRedisSharedVolumeAndCpuSilos(string folder)
    {
        var m = Manifests.Of(folder);
        Assert.All(m.Documents, d =>
        {
            Assert.NotNull(Scalar(d, "apiVersion"));
            Assert.NotNull(Scalar(d, "metadata", "name"));
        });
        var redis = m.Workloads.Single(w => Scalar(w.PodLabels, "app.kubernetes.io/component") == "redis");
        Assert.Equal("1", Scalar(redis.Doc, "spec", "replicas"));
        var cpu = m.Workload("streaming-cpu");
        Assert.Equal("2", Scalar(cpu.Doc, "spec", "replicas"));
        Assert.Contains(m.Silos, s => s.Workload == cpu);
    }

    [Fact]
    public void GpuSiloRequestsOneGpuOnGpuNodesAndTrainsOnCuda()
    {
        var m = Manifests.Of(WithGpu);
        var gpu = m.Silos.Single(s => s.Workload.Name == "streaming-gpu");
        Assert.Equal("1", Scalar(gpu.Workload.Doc, "spec", "replicas"));
        Assert.Equal("1", Scalar(gpu.Container, "resources", "limits", "nvidia.com/gpu"));
        // Kubernetes requires an extended resource's request, when given, to equal its limit.
        var request = Scalar(gpu.Container, "resources", "requests", "nvidia.com/gpu");
        Assert.True(request is null or "1", $"GPU request {request} differs from the limit");
        Assert.Equal("cuda", gpu.Flag("--device"));
        Assert.False(string.IsNullOrWhiteSpace(gpu.Flag("--libtorch")));
        var pod = gpu.Workload.PodSpec;
        var selectsGpuNodes = At(pod, "nodeSelector") is YamlMappingNode { Children.Count: > 0 } || At(pod, "affinity", "nodeAffinity") is not null;
        Assert.True(selectsGpuNodes, "the GPU silo has no node selector or node affinity for GPU nodes");
        Assert.Contains(Items(pod, "tolerations"), t => Scalar(t, "key") == "nvidia.com/gpu");
        // Only the GPU silo asks for a GPU.
        Assert.All(m.Silos.Where(s => s != gpu), s => Assert.Null(At(s.Container, "resources", "limits", "nvidia.com/gpu")));
    }

    [Fact]
    public void GpuSiloPointsAtTheLibTorchTheCudaImageCarries()
    {
        var containerfile = File.ReadAllText(Path.Combine(Manifests.RepositoryRoot, "deploy/container/Containerfile.cuda"));
        var variable = LibTorchVariable().Match(containerfile);
        Assert.True(variable.Success, "Containerfile.cuda sets no STREAMING_LIBTORCH");
        var gpu = Manifests.Of(WithGpu).Silos.Single(s => s.Workload.Name == "streaming-gpu");
        Assert.Equal(variable.Groups[1].Value, gpu.Flag("--libtorch"));
        // The CUDA image must not carry the bundled CPU libtorch next to the CUDA one.
        Assert.Contains("-p:TorchNative=external", containerfile);
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void EverySiloFlagIsOneTheBuiltSiloAccepts(string folder)
    {
        var accepted = SiloHelp.Value.Flags;
        var silos = Manifests.Of(folder).Silos;
        Assert.NotEmpty(silos);
        foreach (var silo in silos)
        {
            var unknown = silo.Args.Where(a => a.StartsWith("--")).Select(a => a.Split('=')[0]).Where(f => !accepted.Contains(f)).ToList();
            Assert.True(unknown.Count == 0,
                $"{silo.Workload.Name} passes {string.Join(", ", unknown)}, which `streaming-silo --help` does not list ({string.Join(" ", accepted)})");
        }
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void SilosJoinTheRedisClusterWithTheirPodAddressAndShareData(string folder)
    {
        var m = Manifests.Of(folder);
        foreach (var silo in m.Silos)
        {
            // The kubelet leaves an undefined $(VAR) in the args as it is: every one must be a container variable.
            foreach (Match reference in Reference().Matches(string.Join(" ", silo.Args)))
                Assert.True(silo.Env.ContainsKey(reference.Groups[1].Value), $"{silo.Workload.Name}: $({reference.Groups[1].Value}) is not defined in env");
            Assert.Equal("redis", silo.Flag("--cluster"));
            Assert.Equal("redis", silo.Flag("--storage"));

            // In the environment, not the args: the connection string carries Redis' password.
            Assert.Null(silo.Flag("--redis"));
            var redis = silo.Resolve(Scalar(silo.Env["STREAMING_REDIS"], "value"));
            var address = redis.Split(',')[0];
            var (host, port) = (address.Split(':')[0], address.Split(':')[^1]);
            var service = m.Service(host);
            Assert.Contains(Items(service, "spec", "ports"), p => Scalar(p, "port") == port);
            var redisPods = m.Workloads.Where(w => Selects(service, w)).ToList();
            Assert.Contains(redisPods, w => w.Containers.Any(c => Scalar(c, "image")?.Contains("redis") == true));

            Assert.Equal("$(POD_IP)", silo.Flag("--advertise-ip"));
            Assert.Equal("status.podIP", Scalar(silo.Env["POD_IP"], "valueFrom", "fieldRef", "fieldPath"));

            var data = silo.Flag("--data");
            Assert.Equal("/data", data);
            var claim = m.ClaimMountedAt(silo, data!);
            Assert.Contains(Items(claim, "spec", "accessModes"), a => ((YamlScalarNode)a).Value == "ReadWriteMany");
        }
        // One volume for all: a trainer that fails over finds the checkpoints its predecessor wrote.
        Assert.Single(m.Silos.Select(s => Scalar(m.ClaimMountedAt(s, "/data"), "metadata", "name")).Distinct());
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void SilosReadCorpusPathsOnlyFromTheIncomingFolderAndTheSamples(string folder)
    {
        foreach (var silo in Manifests.Of(folder).Silos)
        {
            var roots = silo.Resolve(silo.Flag("--corpus-roots")).Split(',');
            Assert.Equal(["/data/incoming", "/app/samples/corpora"], roots);
            // On the shared volume: a corpus copied there through any silo's pod is readable by whichever silo hosts it.
            Assert.StartsWith(silo.Flag("--data") + "/", roots[0]);
        }
        foreach (var containerfile in new[] { "Containerfile", "Containerfile.cuda" })
            Assert.Contains("COPY samples/corpora /app/samples/corpora", File.ReadAllText(Path.Combine(Manifests.RepositoryRoot, "deploy/container", containerfile)));
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void ContainerPortsAndProbesMatchTheSilo(string folder)
    {
        var help = SiloHelp.Value;
        // The contract (docs/architecture.md): HTTP 8080, silo 11111, gateway 30000 unless a flag says otherwise.
        Assert.Equal((8080, 11111, 30000), (help.Default("--http-port"), help.Default("--silo-port"), help.Default("--gateway-port")));
        foreach (var silo in Manifests.Of(folder).Silos)
        {
            var http = silo.Port("--http-port", help);
            var ports = Items(silo.Container, "ports").ToDictionary(p => Scalar(p, "name") ?? "", p => int.Parse(Scalar(p, "containerPort")!));
            Assert.Equal(http, ports["http"]);
            Assert.Equal(silo.Port("--silo-port", help), ports["silo"]);
            Assert.Equal(silo.Port("--gateway-port", help), ports["gateway"]);

            foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
                Assert.NotNull(At(silo.Container, probe));
            // Liveness must not fail for what a restart cannot mend (a failed run): /health/live; readiness: /health/ready.
            var paths = new Dictionary<string, string> { ["startupProbe"] = "/health/live", ["readinessProbe"] = "/health/ready", ["livenessProbe"] = "/health/live" };
            foreach (var probe in paths.Keys.Where(p => At(silo.Container, p) is not null))
            {
                Assert.Equal(paths[probe], Scalar(silo.Container, probe, "httpGet", "path"));
                var port = Scalar(silo.Container, probe, "httpGet", "port")!;
                Assert.Equal(http, int.TryParse(port, out var number) ? number : ports[port]);
            }
        }
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void SiloServiceExposesThePortsAndIsScrapedByPrometheus(string folder)
    {
        var m = Manifests.Of(folder);
        var help = SiloHelp.Value;
        var silos = m.Documents.Where(d => Scalar(d, "kind") == "Service" && m.Silos.All(s => Selects(d, s.Workload))).ToList();
        var service = silos.Single(d => Scalar(d, "spec", "clusterIP") != "None");
        var ports = Items(service, "spec", "ports").Select(p => int.Parse(Scalar(p, "port")!)).ToHashSet();
        Assert.Superset(new HashSet<int> { help.Default("--http-port"), help.Default("--silo-port"), help.Default("--gateway-port") }, ports);
        Assert.Equal("true", Scalar(service, "metadata", "annotations", "prometheus.io/scrape"));
        Assert.Equal("/metrics", Scalar(service, "metadata", "annotations", "prometheus.io/path"));
        Assert.All(m.Silos, s => Assert.Equal(s.Port("--http-port", help).ToString(), Scalar(service, "metadata", "annotations", "prometheus.io/port")));
        // deploy/prometheus/kubernetes.yml finds each silo through the headless Service's DNS name, on the HTTP port.
        var headless = silos.Single(d => Scalar(d, "spec", "clusterIP") == "None");
        var scrape = File.ReadAllText(Path.Combine(Manifests.RepositoryRoot, "deploy/prometheus/kubernetes.yml"));
        Assert.Contains($"{Scalar(headless, "metadata", "name")}.{Scalar(headless, "metadata", "namespace")}.svc.cluster.local", scrape);
        Assert.Contains($"port: {help.Default("--http-port")}", scrape);
        Assert.Equal([help.Default("--http-port")], Items(headless, "spec", "ports").Select(p => int.Parse(Scalar(p, "port")!)));
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void EveryContainerRunsAsNonRootWithRequestsAndLimits(string folder)
    {
        foreach (var workload in Manifests.Of(folder).Workloads)
            foreach (var container in workload.Containers)
            {
                var nonRoot = Scalar(container, "securityContext", "runAsNonRoot") ?? Scalar(workload.PodSpec, "securityContext", "runAsNonRoot");
                Assert.True(nonRoot == "true", $"{workload.Name}/{Scalar(container, "name")} may run as root");
                Assert.Equal("false", Scalar(container, "securityContext", "allowPrivilegeEscalation"));
                Assert.NotNull(Scalar(container, "resources", "requests", "memory"));
                Assert.NotNull(Scalar(container, "resources", "limits", "memory"));
            }
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void RedisAppendsToAPersistentVolume(string folder)
    {
        var m = Manifests.Of(folder);
        var redis = m.Workloads.Single(w => Scalar(w.PodLabels, "app.kubernetes.io/component") == "redis");
        var container = redis.Containers.Single();
        var args = Items(container, "args").Select(a => ((YamlScalarNode)a).Value!).ToList();
        Assert.Equal("yes", args[args.IndexOf("--appendonly") + 1]);
        var dir = args[args.IndexOf("--dir") + 1];
        var mount = Items(container, "volumeMounts").Single(v => Scalar(v, "mountPath") == dir);
        var volume = Items(redis.PodSpec, "volumes").Single(v => Scalar(v, "name") == Scalar(mount, "name"));
        Assert.NotNull(m.Claim(Scalar(volume, "persistentVolumeClaim", "claimName")!));
    }

    [Fact]
    public void CpuOnlyOverlayRequestsNoGpuAndTrainsOnCpuSilos()
    {
        var m = Manifests.Of(CpuOnly);
        foreach (var workload in m.Workloads)
            foreach (var container in workload.Containers)
            {
                Assert.Null(At(container, "resources", "limits", "nvidia.com/gpu"));
                Assert.Null(At(container, "resources", "requests", "nvidia.com/gpu"));
            }
        Assert.DoesNotContain(m.Workloads, w => At(w.PodSpec, "nodeSelector") is YamlMappingNode s && s.Children.Keys.Any(k => k.ToString().StartsWith("nvidia.com/")));
        Assert.NotEmpty(m.Silos);
        Assert.All(m.Silos, s => Assert.NotEqual("cuda", s.Flag("--device")));
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void ServiceMonitorScrapesEverySiloOnceOnItsHttpPort(string folder)
    {
        var m = Manifests.Of(folder);
        var monitor = Manifests.Of(Monitoring).Documents.Single(d => Scalar(d, "kind") == "ServiceMonitor");
        Assert.Equal("monitoring.coreos.com/v1", Scalar(monitor, "apiVersion"));
        Assert.Null(At(monitor, "spec", "selector", "matchExpressions"));
        Assert.Null(At(monitor, "spec", "namespaceSelector"));
        var wanted = (YamlMappingNode)At(monitor, "spec", "selector", "matchLabels")!;
        // Without a namespaceSelector the operator looks in the ServiceMonitor's own namespace.
        var selected = m.Documents.Where(d => Scalar(d, "kind") == "Service"
            && Scalar(d, "metadata", "namespace") == Scalar(monitor, "metadata", "namespace")
            && wanted.Children.All(kv => Scalar(d, "metadata", "labels", kv.Key.ToString()) == kv.Value.ToString())).ToList();
        // Two Services in front of the same pods would scrape every silo twice.
        var service = Assert.Single(selected);
        Assert.All(m.Silos, s => Assert.True(Selects(service, s.Workload), $"{Scalar(service, "metadata", "name")} does not select {s.Workload.Name}"));

        var endpoint = Assert.Single(Items(monitor, "spec", "endpoints"));
        Assert.Equal("/metrics", Scalar(endpoint, "path"));
        var port = Items(service, "spec", "ports").Single(p => Scalar(p, "name") == Scalar(endpoint, "port"));
        var help = SiloHelp.Value;
        foreach (var silo in m.Silos)
        {
            var target = Scalar(port, "targetPort")!;
            var container = int.TryParse(target, out var number) ? number
                : int.Parse(Scalar(Items(silo.Container, "ports").Single(p => Scalar(p, "name") == target), "containerPort")!);
            Assert.Equal(silo.Port("--http-port", help), container);
        }
    }

    [Fact]
    public void PrometheusRuleCarriesTheAlertsOfTheRuleFile()
    {
        var rule = Manifests.Of(Monitoring).Documents.Single(d => Scalar(d, "kind") == "PrometheusRule");
        Assert.Equal("monitoring.coreos.com/v1", Scalar(rule, "apiVersion"));
        var file = new YamlStream();
        file.Load(new StringReader(File.ReadAllText(Path.Combine(Manifests.RepositoryRoot, "deploy/prometheus/alerts.yml"))));
        var groups = At(file.Documents.Single().RootNode, "groups");
        Assert.NotEmpty(Items(groups));
        Assert.True(Canonical(groups) == Canonical(At(rule, "spec", "groups")),
            "spec.groups of deploy/k8s/monitoring/prometheus-rule.yaml differ from the groups of deploy/prometheus/alerts.yml: copy them over");
    }

    [Fact]
    public void GrafanasSidecarGetsTheDashboard()
    {
        var dashboards = Manifests.Of(Monitoring).Documents
            .Where(d => Scalar(d, "kind") == "ConfigMap" && Scalar(d, "metadata", "labels", "grafana_dashboard") == "1").ToList();
        var map = Assert.Single(dashboards);
        var file = File.ReadAllText(Path.Combine(Manifests.RepositoryRoot, "deploy/grafana/dashboards/streaming.json"));
        Assert.Equal(file, Scalar(map, "data", "streaming.json"));
        // Kubernetes refuses a ConfigMap over 1 MiB; `kubectl apply` copies it into an annotation capped at 256 KiB.
        Assert.True(file.Length < 256 * 1024, $"the dashboard is {file.Length} bytes, too large for `kubectl apply`");
        // A hash-suffixed name would leave the old ConfigMap behind on each change: two dashboards with one uid.
        Assert.Equal("streaming-dashboard", Scalar(map, "metadata", "name"));
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void SilosPresentTheClusterCredentialFromASecretThatIsNotShipped(string folder)
    {
        var m = Manifests.Of(folder);
        foreach (var silo in m.Silos)
        {
            var path = Scalar(silo.Env["STREAMING_CREDENTIALS"], "value")!;
            var mount = Items(silo.Container, "volumeMounts").Single(v => Scalar(v, "mountPath") == Path.GetDirectoryName(path));
            Assert.Equal("true", Scalar(mount, "readOnly"));
            var volume = Items(silo.Workload.PodSpec, "volumes").Single(v => Scalar(v, "name") == Scalar(mount, "name"));
            Assert.Equal("streaming-credentials", Scalar(volume, "secret", "secretName"));
            Assert.Null(silo.Flag("--credentials"));
        }
        // The operator creates the Secrets (docs/deploy.md): none is rendered, so no key or password is in git or an image.
        Assert.DoesNotContain(m.Documents, d => Scalar(d, "kind") == "Secret");
        Assert.DoesNotContain(m.Documents, d => Scalar(d, "kind") == "ConfigMap" && Canonical(At(d, "data")).Contains("password", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void RedisRequiresThePasswordTheSilosGetFromTheSameSecret(string folder)
    {
        var m = Manifests.Of(folder);
        var redis = m.Workloads.Single(w => Scalar(w.PodLabels, "app.kubernetes.io/component") == "redis").Containers.Single();
        var args = Items(redis, "args").Select(a => ((YamlScalarNode)a).Value).ToList();
        Assert.Equal("$(REDIS_PASSWORD)", args[args.IndexOf("--requirepass") + 1]);
        var env = Items(redis, "env").ToDictionary(e => Scalar(e, "name")!, e => At(e, "valueFrom", "secretKeyRef"));
        foreach (var name in new[] { "REDIS_PASSWORD", "REDISCLI_AUTH" })   // the server's, and the probes' redis-cli's
            Assert.Equal(("streaming-redis", "password"), (Scalar(env[name], "name"), Scalar(env[name], "key")));
        foreach (var silo in m.Silos)
            Assert.Equal("streaming-redis:6379,password=<secret streaming-redis/password>", silo.Resolve(Scalar(silo.Env["STREAMING_REDIS"], "value")));
    }

    [Theory]
    [InlineData(WithGpu)]
    [InlineData(CpuOnly)]
    public void NetworkPolicyLetsOnlySilosAndClientsReachTheOrleansPorts(string folder)
    {
        var m = Manifests.Of(folder);
        var help = SiloHelp.Value;
        var policy = m.Documents.Single(d => Scalar(d, "kind") == "NetworkPolicy" && Scalar(d, "metadata", "name") == "streaming-silo");
        Assert.All(m.Silos, s => Assert.True(At(policy, "spec", "podSelector", "matchLabels") is YamlMappingNode selector
            && selector.Children.All(kv => Scalar(s.Workload.PodLabels, kv.Key.ToString()) == kv.Value.ToString()), $"the policy does not select {s.Workload.Name}"));
        Assert.Contains(Items(policy, "spec", "policyTypes"), t => ((YamlScalarNode)t).Value == "Ingress");
        var silo = m.Silos[0];
        // Who may reach each port: the "from" peers of every rule that lists it.
        IReadOnlyList<string> From(int port) => Items(policy, "spec", "ingress")
            .Where(rule => Items(rule, "ports").Any(p => Scalar(p, "port") == port.ToString()))
            .SelectMany(rule => Items(rule, "from")).Select(Canonical).Order(StringComparer.Ordinal).ToList();
        const string silos = "{\"podSelector\":{\"matchLabels\":{\"app.kubernetes.io/component\":\"silo\"}}}";
        const string clients = "{\"podSelector\":{\"matchLabels\":{\"streaming/client\":\"true\"}}}";
        Assert.Equal([silos], From(silo.Port("--silo-port", help)));
        Assert.Equal(new[] { silos, clients }.Order(StringComparer.Ordinal), From(silo.Port("--gateway-port", help)));
        var http = From(silo.Port("--http-port", help));
        Assert.Contains("{\"podSelector\":{}}", http);
        Assert.Contains("{\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"monitoring\"}}}", http);
    }

    /// <summary>A YAML node as text that is equal exactly when the data are (mapping keys sorted, styles ignored).</summary>
    static string Canonical(YamlNode? node) => node switch
    {
        YamlScalarNode s => System.Text.Json.JsonSerializer.Serialize(s.Value),
        YamlSequenceNode q => $"[{string.Join(",", q.Children.Select(Canonical))}]",
        YamlMappingNode m => $"{{{string.Join(",", m.Children.OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal).Select(kv => $"{Canonical(kv.Key)}:{Canonical(kv.Value)}"))}}}",
        _ => "null",
    };

    // ---- the rendered manifests ----

    static bool Selects(YamlNode service, Workload workload) =>
        At(service, "spec", "selector") is YamlMappingNode selector && selector.Children.Count > 0 &&
        selector.Children.All(kv => Scalar(workload.PodLabels, kv.Key.ToString()) == kv.Value.ToString());

    static YamlNode? At(YamlNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out node)) return null;
        }
        return node;
    }

    static string? Scalar(YamlNode? node, params string[] path) => (At(node, path) as YamlScalarNode)?.Value;

    static IEnumerable<YamlNode> Items(YamlNode? node, params string[] path) => At(node, path) is YamlSequenceNode s ? s.Children : [];

    sealed record Workload(string Name, YamlMappingNode Doc)
    {
        public YamlNode PodSpec => At(Doc, "spec", "template", "spec")!;
        public YamlNode? PodLabels => At(Doc, "spec", "template", "metadata", "labels");
        public IEnumerable<YamlNode> Containers => Items(PodSpec, "containers");
    }

    /// <summary>A silo container: its args as written and its environment (which $(VAR) in args refer to).</summary>
    sealed record Silo(Workload Workload, YamlNode Container, Manifests Manifests)
    {
        public IReadOnlyList<string> Args => Items(Container, "args").Select(a => ((YamlScalarNode)a).Value!).ToList();

        public IReadOnlyDictionary<string, YamlNode> Env =>
            Items(Container, "env").ToDictionary(e => Scalar(e, "name")!, e => e);

        /// <summary>The value after a flag, as written (null when the flag is absent).</summary>
        public string? Flag(string name)
        {
            var args = Args;
            var at = args.ToList().IndexOf(name);
            return at >= 0 && at + 1 < args.Count ? args[at + 1] : null;
        }

        /// <summary>Expands $(VAR) from literal values and ConfigMap keys, as the kubelet will; a Secret's key stays a placeholder.</summary>
        public string Resolve(string? value)
        {
            Assert.NotNull(value);
            return Reference().Replace(value, match =>
            {
                var env = Env[match.Groups[1].Value];
                if (Scalar(env, "value") is { } literal) return literal;
                if (At(env, "valueFrom", "secretKeyRef") is { } secret) return $"<secret {Scalar(secret, "name")}/{Scalar(secret, "key")}>";
                var name = Scalar(env, "valueFrom", "configMapKeyRef", "name");
                Assert.True(name is not null, $"$({match.Groups[1].Value}) is neither a value nor a ConfigMap key");
                var map = Manifests.Documents.Single(d => Scalar(d, "kind") == "ConfigMap" && Scalar(d, "metadata", "name") == name);
                return Scalar(map, "data", Scalar(env, "valueFrom", "configMapKeyRef", "key")!)
                    ?? throw new Xunit.Sdk.XunitException($"ConfigMap {name} has no key for $({match.Groups[1].Value})");
            });
        }

        /// <summary>The port a flag sets, or the silo's default for it.</summary>
        public int Port(string flag, SiloHelp help) => Flag(flag) is { } given ? int.Parse(Resolve(given)) : help.Default(flag);
    }

    sealed class Manifests
    {
        static readonly ConcurrentDictionary<string, Manifests> Rendered = new();
        public static readonly string RepositoryRoot = Executables.RepositoryRoot;

        public IReadOnlyList<YamlMappingNode> Documents { get; }
        public IReadOnlyList<Workload> Workloads { get; }
        public IReadOnlyList<Silo> Silos { get; }

        Manifests(string yaml)
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            Documents = stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
            Workloads = Documents.Where(d => Scalar(d, "kind") is "Deployment" or "StatefulSet")
                .Select(d => new Workload(Scalar(d, "metadata", "name")!, d)).ToList();
            Silos = Workloads.Where(w => Scalar(w.PodLabels, "app.kubernetes.io/component") == SiloComponent)
                .SelectMany(w => w.Containers.Select(c => new Silo(w, c, this))).ToList();
        }

        public static Manifests Of(string folder) => Rendered.GetOrAdd(folder, f => new Manifests(Kustomize(f)));

        public Workload Workload(string name) => Workloads.Single(w => w.Name == name);

        public YamlMappingNode Service(string name) =>
            Documents.Single(d => Scalar(d, "kind") == "Service" && Scalar(d, "metadata", "name") == name);

        public YamlMappingNode? Claim(string name) =>
            Documents.SingleOrDefault(d => Scalar(d, "kind") == "PersistentVolumeClaim" && Scalar(d, "metadata", "name") == name);

        /// <summary>The PersistentVolumeClaim a silo mounts at a path (fails when that path is not on a claim).</summary>
        public YamlMappingNode ClaimMountedAt(Silo silo, string path)
        {
            var mount = Items(silo.Container, "volumeMounts").SingleOrDefault(v => Scalar(v, "mountPath") == path);
            Assert.True(mount is not null, $"{silo.Workload.Name} mounts nothing at {path}");
            var volume = Items(silo.Workload.PodSpec, "volumes").Single(v => Scalar(v, "name") == Scalar(mount, "name"));
            var claim = Scalar(volume, "persistentVolumeClaim", "claimName");
            Assert.True(claim is not null, $"{silo.Workload.Name}: {path} is not a persistent volume");
            return Claim(claim) ?? throw new Xunit.Sdk.XunitException($"no PersistentVolumeClaim {claim}");
        }

        /// <summary>test.sh's kubectl where it brought one (the machine had none that renders deploy/k8s), else kubectl on PATH.</summary>
        static string Kubectl()
        {
            var brought = Path.Combine(RepositoryRoot, ".tools", "kubectl", "kubectl");
            return File.Exists(brought) ? brought : "kubectl";
        }

        static string Kustomize(string folder)
        {
            var start = new ProcessStartInfo(Kubectl(), ["kustomize", folder])
            {
                WorkingDirectory = RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            Process process;
            try
            {
                process = Process.Start(start)!;
            }
            catch (Win32Exception e)
            {
                throw new InvalidOperationException($"no kubectl to render {folder} ({e.Message}): ./test.sh brings one into .tools/kubectl/");
            }
            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(60_000))
                {
                    process.Kill(entireProcessTree: true);
                    throw new TimeoutException($"kubectl kustomize {folder} did not finish within a minute");
                }
                Assert.True(process.ExitCode == 0, $"kubectl kustomize {folder} failed ({start.FileName}; Debian 12's kubectl 1.20 cannot, ./test.sh brings a newer one): {stderr.Result}");
                Assert.False(string.IsNullOrWhiteSpace(stdout.Result), $"kubectl kustomize {folder} rendered nothing");
                return stdout.Result;
            }
        }
    }

    /// <summary>What the built silo's --help lists: its long flags and their defaults.</summary>
    sealed partial class SiloHelp
    {
        static readonly Lazy<SiloHelp> Once = new(Read);
        public static SiloHelp Value => Once.Value;

        public IReadOnlySet<string> Flags { get; }
        readonly Dictionary<string, string> defaults;

        SiloHelp(IReadOnlySet<string> flags, Dictionary<string, string> defaults) => (Flags, this.defaults) = (flags, defaults);

        public int Default(string flag) =>
            defaults.TryGetValue(flag, out var value) ? int.Parse(value) : throw new Xunit.Sdk.XunitException($"`streaming-silo --help` shows no default for {flag}");

        static SiloHelp Read()
        {
            var (code, stdout, stderr) = Executables.Run(Executables.Silo, "--help");
            Assert.True(code == 0, $"streaming-silo --help exited {code}: {stderr}");
            var flags = new HashSet<string>();
            var defaults = new Dictionary<string, string>();
            // Option lines: "  -?, -h, --help   Description" or "  --http-port <http-port>   Description [default: 8080]".
            foreach (var line in stdout.Split('\n').Select(l => l.TrimEnd()).Where(l => l.StartsWith("  -")))
            {
                var names = OptionColumn().Match(line).Groups[1].Value;
                var longNames = LongFlag().Matches(names).Select(m => m.Value).ToList();
                flags.UnionWith(longNames);
                if (DefaultValue().Match(line) is { Success: true } d)
                    foreach (var name in longNames) defaults[name] = d.Groups[1].Value;
            }
            Assert.Contains("--data", flags);
            return new SiloHelp(flags, defaults);
        }

        [GeneratedRegex(@"^\s+(\S.*?)(?:\s{2,}|$)")]
        private static partial Regex OptionColumn();

        [GeneratedRegex(@"--[a-z0-9][a-z0-9-]*")]
        private static partial Regex LongFlag();

        [GeneratedRegex(@"\[default: ([^\]]+)\]$")]
        private static partial Regex DefaultValue();
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex Reference();

    [GeneratedRegex(@"STREAMING_LIBTORCH=(\S+)")]
    private static partial Regex LibTorchVariable();
}
