using System.CommandLine;
using Streaming.Security;

namespace Streaming.Client.Commands;

/// <summary>`streaming credentials create FILE`: a new cluster credential, e.g. for a Kubernetes Secret (docs/deploy.md).</summary>
public static class CredentialsCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Where to write the PFX (mode 0600)" };
        var force = new Option<bool>("--force") { Description = "Replace an existing file (every silo and client holding the old one is refused then)" };
        var create = new Command("create", "Write a new cluster credential: a self-signed certificate with its key, which silos and clients present "
            + "to each other (mutual TLS)") { file, force };
        create.SetAction(parse => CommonOptions.Guard(() =>
        {
            var path = parse.GetValue(file)!;
            if (File.Exists(path) && !parse.GetValue(force)) throw new UserError($"'{path}' exists; --force replaces it");
            try
            {
                ClusterCredential.CreateNew(path, overwrite: true);
                using var credential = ClusterCredential.Load(path);
                Console.WriteLine($"wrote cluster credential {path} (certificate {credential.Fingerprint})");
            }
            catch (CredentialException e)
            {
                throw new UserError(e.Message);
            }
            return Task.FromResult(0);
        }));
        return new Command("credentials", "The cluster credential that silos and clients present to each other") { create };
    }
}
