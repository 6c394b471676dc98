namespace Streaming.Integration.Tests;

/// <summary>The silo executable as a user runs it: bad input is one line on stderr and a non-zero exit.</summary>
public class SiloCommandLineTests
{
    [Theory]
    [InlineData("--libtorch /nonexistent/torch/lib", "error: libtorch folder '/nonexistent/torch/lib' does not exist")]
    [InlineData("--device tpu", "error: --device must be auto, cpu or cuda, not 'tpu'")]
    [InlineData("--device cuda", "error: --device cuda: CUDA is not available")]
    [InlineData("--demo /nonexistent/corpus.txt", "error: corpus '/nonexistent/corpus.txt' does not exist")]
    [InlineData("--storage postgres", "error: unknown grain storage 'postgres': use one of sqlite, redis, memory")]
    [InlineData("--storage redis", "error: grain storage 'redis' needs a Redis connection string (--redis HOST:PORT)")]
    [InlineData("--cluster consul", "error: unknown clustering 'consul': use one of localhost, redis")]
    [InlineData("--cluster redis", "error: --cluster redis needs a Redis connection string (--redis HOST:PORT)")]
    [InlineData("--cluster redis --redis 127.0.0.1:6379 --storage sqlite", "error: --cluster redis needs grain state that all silos share: use --storage redis, not sqlite")]
    [InlineData("--cluster redis --redis 127.0.0.1:6379 --advertise-ip 10.0.0.300", "error: --advertise-ip '10.0.0.300' is not an IP address")]
    [InlineData("--advertise-ip 10.0.0.7", "error: --advertise-ip needs --cluster redis (localhost clustering listens on 127.0.0.1 only)")]
    [InlineData("--cluster redis --redis 127.0.0.1:1", "error: cannot reach Redis at '127.0.0.1:1'")]
    [InlineData("--replay 1.5", "error: --replay must be a fraction in [0, 1), not 1.5")]
    [InlineData("--checkpoint-every 0", "error: --checkpoint-every must be at least 1, not 0")]
    [InlineData("--trainers 0", "error: --trainers must be at least 1, not 0")]
    [InlineData("--corpus-roots ,", "error: --corpus-roots names no folder: give at least one, or leave it unset to allow any path")]
    [InlineData("--max-download-mb 0", "error: --max-download-mb must be at least 1, not 0")]
    public void BadInputIsOneLineAndExitTwo(string arguments, string expected)
    {
        var (code, _, stderr) = Executables.Run(Executables.Silo, $"--http-port 0 {arguments}");
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToList();
        Assert.Single(lines);
        Assert.StartsWith(expected, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Theory]
    [InlineData("--cluster redis --redis 127.0.0.1:1,password=hunter2", "error: cannot reach Redis at '127.0.0.1:1,password=***'")]
    [InlineData("--storage redis --redis 127.0.0.1:1,user=ops,password=hunter2,connectTimeout=x", "error: bad Redis connection string '127.0.0.1:1,user=***,password=***,connectTimeout=x'")]
    public void ARedisPasswordIsNeverPrinted(string arguments, string expected)
    {
        var (code, stdout, stderr) = Executables.Run(Executables.Silo, $"--http-port 0 {arguments}");
        Assert.Equal(2, code);
        Assert.StartsWith(expected, Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:")));
        Assert.DoesNotContain("hunter2", stdout + stderr);
    }

    [Theory]
    [InlineData("--http-port")]
    [InlineData("--gateway-port")]
    public void APortInUseIsOneLineAndExitTwo(string flag)
    {
        using var taken = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        taken.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((System.Net.IPEndPoint)taken.LocalEndPoint!).Port;
        var others = flag == "--http-port" ? "" : "--http-port 0 ";
        var (code, _, stderr) = Executables.Run(Executables.Silo, $"{others}{flag} {port}");
        Assert.Equal(2, code);
        Assert.Equal($"error: port {port} ({flag}) is already in use, perhaps by another silo: stop it, or choose another port with {flag}",
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:")));
        Assert.DoesNotContain("   at ", stderr);
    }

    /// <summary>Runs the silo in a folder of its own, with that folder's appsettings.json (when given) and these variables.</summary>
    static (int Code, string Out, string Err) RunConfigured(string arguments, string? appsettings, params (string Name, string Value)[] environment)
    {
        var folder = Directory.CreateTempSubdirectory("streaming-config-").FullName;
        if (appsettings is not null) File.WriteAllText(Path.Combine(folder, "appsettings.json"), appsettings);
        return Executables.Run(Executables.Silo, arguments, configure: start =>
        {
            start.WorkingDirectory = folder;
            foreach (var (name, value) in environment) start.Environment[name] = value;
        });
    }

    static string ErrorLine(string stderr)
    {
        Assert.DoesNotContain("   at ", stderr);
        return Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:"));
    }

    [Fact]
    public void AnEnvironmentValueOfTheWrongTypeIsOneLineNamingTheVariable()
    {
        var (code, _, stderr) = RunConfigured("--http-port 0", null, ("STREAMING_CHECKPOINT_EVERY", "often"));
        Assert.Equal(2, code);
        Assert.Equal("error: STREAMING_CHECKPOINT_EVERY = 'often' is not a valid value for --checkpoint-every (a whole number)", ErrorLine(stderr));
    }

    [Fact]
    public void AMistypedSettingInAppSettingsIsRefusedNotIgnored()
    {
        var (code, _, stderr) = RunConfigured("--http-port 0", """{ "Streaming": { "chekpoint-every": 200 } }""");
        Assert.Equal(2, code);
        Assert.Contains("unknown setting \"Streaming\": \"chekpoint-every\"", ErrorLine(stderr));
    }

    [Fact]
    public void AppSettingsThatIsNotJsonIsOneLine()
    {
        var (code, _, stderr) = RunConfigured("--http-port 0", """{ "Streaming": { "checkpoint-every": """);
        Assert.Equal(2, code);
        Assert.Contains("appsettings.json is not valid JSON", ErrorLine(stderr));
    }

    [Fact]
    public void TheEnvironmentWinsOverTheFileAndShowsAsTheDefault()
    {
        var (code, stdout, _) = RunConfigured("--help", """{ "Streaming": { "trainers": 3, "CheckpointEvery": 70 } }""", ("STREAMING_TRAINERS", "4"));
        Assert.Equal(0, code);
        Assert.Matches(@"--trainers .*\[default: 4\]", stdout);
        Assert.Matches(@"--checkpoint-every .*\[default: 70\]", stdout);
    }

    [Fact]
    public void CorpusRootsFromTheEnvironmentMustHoldTheDemosCorpora()
    {
        var (code, _, stderr) = RunConfigured("--http-port 0 --demo", null, ("STREAMING_CORPUS_ROOTS", "/nonexistent-root, /srv/corpora"));
        Assert.Equal(2, code);
        Assert.Matches(@"^error: the demo's corpus '/.+' is outside the silo's corpus roots \(/nonexistent-root, /srv/corpora\): add its folder to --corpus-roots, or leave that unset$",
            ErrorLine(stderr));
        var help = RunConfigured("--help", """{ "Streaming": { "corpus-roots": "/srv/corpora", "max-download-mb": 100 } }""");
        Assert.Matches(@"--corpus-roots .*\[default: /srv/corpora\]", help.Out);
        Assert.Matches(@"--max-download-mb .*\[default: 100\]", help.Out);
    }

    [Fact]
    public void AFlagWinsOverTheEnvironment()
    {
        // The variable alone would pass; the flag's value is the one checked.
        var (code, _, stderr) = RunConfigured("--http-port 0 --trainers 0", null, ("STREAMING_TRAINERS", "2"));
        Assert.Equal(2, code);
        Assert.Equal("error: --trainers must be at least 1, not 0", ErrorLine(stderr));
    }

    [Fact]
    public async Task ASiloConfiguredByFileAndEnvironmentServesWhereTheySay()
    {
        var folder = Directory.CreateTempSubdirectory("streaming-configured-silo-").FullName;
        int http = Executables.FreePort(), gateway = Executables.FreePort(), siloPort = Executables.FreePort();
        File.WriteAllText(Path.Combine(folder, "appsettings.json"), $$"""{ "Streaming": { "gateway-port": {{gateway}}, "data": "state", "device": "cpu" } }""");
        using var silo = Executables.Start(Executables.Silo, $"--silo-port {siloPort}", start =>
        {
            start.WorkingDirectory = folder;
            start.Environment["STREAMING_HTTP_PORT"] = http.ToString();
        });
        try
        {
            // A client asked before the starting silo made the cluster credential says so at once: ask until it is there.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            var status = Executables.Run(Executables.Client, $"status --gateway {gateway}", TimeSpan.FromMinutes(2));
            while (status.Code != 0 && !silo.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                status = Executables.Run(Executables.Client, $"status --gateway {gateway}", TimeSpan.FromMinutes(2));
            }
            Assert.True(status.Code == 0, status.Err);
            using var client = new HttpClient();
            Assert.Equal("ok", await client.GetStringAsync($"http://127.0.0.1:{http}/health"));
            Assert.True(Directory.Exists(Path.Combine(folder, "state")), "the data folder of appsettings.json was not used");
        }
        finally
        {
            silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
        }
    }
}
