using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Orleans.Storage;

namespace Streaming.Grains.Persistence;

/// <summary>
/// Grain state as plain JSON whose shape is given by the state classes' declared types alone: no .NET type
/// names are written or read. A property declared <c>IReadOnlyList&lt;string&gt;</c> may hold an array, a
/// list or the compiler's own type behind a collection expression; it is written as a JSON array and read back
/// as a list. (Orleans' default serializer wrote each value's runtime type name and refused to read back the
/// names it had not been told to allow, so a silo could not restart on the state it had written.)
/// Every write is read back and written again before it is stored: a state that would not come back as it
/// went in (a property the reader cannot set, say) fails that write, where the bug is, never the next start.
/// State written by earlier versions with Orleans' default serializer reads too: its metadata (<c>$type</c>,
/// <c>$values</c>, <c>$id</c>, <c>$ref</c>) is understood, and its type names are ignored.
/// </summary>
public sealed class GrainStateSerializer : IGrainStorageSerializer
{
    static readonly JsonSerializerSettings Settings = new()
    {
        TypeNameHandling = TypeNameHandling.None,
        // Replace, not fill: a collection's initializer must not be appended to.
        ObjectCreationHandling = ObjectCreationHandling.Replace,
        // A field an older version wrote and this one dropped is skipped.
        MissingMemberHandling = MissingMemberHandling.Ignore,
        // Strings stay strings: a date-like path or name is not turned into a DateTime and back.
        DateParseHandling = DateParseHandling.None,
        // NaN and infinities (a diverged loss) are written as strings and read back as numbers.
        FloatFormatHandling = FloatFormatHandling.String,
    };

    public BinaryData Serialize<T>(T? input)
    {
        var json = JsonConvert.SerializeObject(input, typeof(T), Settings);
        string again;
        try
        {
            again = JsonConvert.SerializeObject(Read<T>(json), typeof(T), Settings);
        }
        catch (JsonException e)
        {
            throw new UnreadableStateException($"{typeof(T).Name} would be written in a form it cannot be read from: {OneLine(e.Message)}");
        }
        if (again != json)
            throw new UnreadableStateException($"{typeof(T).Name} does not read back as written (a member the reader cannot set?): wrote {Excerpt(json)}, read back {Excerpt(again)}");
        return BinaryData.FromString(json);
    }

    public T Deserialize<T>(BinaryData input)
    {
        try
        {
            return Read<T>(input.ToString());
        }
        catch (JsonException e)
        {
            throw new UnreadableStateException($"{typeof(T).Name}: {OneLine(e.Message)}");
        }
    }

    static T Read<T>(string json)
    {
        var state = json.Contains("\"$type\"") || json.Contains("\"$id\"")
            ? FromOrleansDefault(JToken.Parse(json, new JsonLoadSettings { DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error })).ToObject<T>(JsonSerializer.Create(Settings))
            : JsonConvert.DeserializeObject<T>(json, Settings);
        return state ?? throw new JsonSerializationException($"the stored {typeof(T).Name} is null");
    }

    /// <summary>
    /// State written by Orleans' default serializer, as plain JSON: <c>{"$type": .., "$values": [..]}</c> becomes
    /// the array, <c>$type</c> and <c>$id</c> go, and <c>{"$ref": id}</c> becomes a copy of the object it names
    /// (that serializer wrote a shared object once and referred to it after).
    /// </summary>
    static JToken FromOrleansDefault(JToken json)
    {
        var byId = new Dictionary<string, JObject>();
        foreach (var o in json is JContainer all ? all.DescendantsAndSelf().OfType<JObject>() : [])
            if (o["$id"] is JValue { Type: JTokenType.String } id) byId[(string)id!] = o;
        return Plain(json);

        JToken Plain(JToken token) => token switch
        {
            JObject { Count: 1 } o when o["$ref"] is JValue reference
                => byId.TryGetValue((string)reference!, out var target) ? Plain(target) : throw new JsonSerializationException($"reference '{reference}' to no object"),
            JObject o when o["$values"] is JArray values => Plain(values),
            JObject o => new JObject(o.Properties().Where(p => p.Name is not ("$type" or "$id")).Select(p => new JProperty(p.Name, Plain(p.Value)))),
            JArray a => new JArray(a.Select(Plain)),
            _ => token.DeepClone(),
        };
    }

    static string OneLine(string message) => message.ReplaceLineEndings(" ");

    static string Excerpt(string json) => json.Length <= 200 ? json : json[..200] + "...";
}
