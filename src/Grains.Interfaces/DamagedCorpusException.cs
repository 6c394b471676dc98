namespace Streaming.Grains;

/// <summary>A stored corpus cannot be read: its token files do not match their checksums or its manifest. The message is
/// one line naming the corpus and the file; the run that asked stops with it rather than train on the damage.</summary>
[GenerateSerializer]
public sealed class DamagedCorpusException : Exception
{
    public DamagedCorpusException() { }

    public DamagedCorpusException(string message) : base(message) { }
}
