using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streaming.Client;

/// <summary>Writes NaN and infinities as JSON null (e.g. the loss of a run that has not trained a step yet), which JSON
/// has no number for; reads numbers as usual.</summary>
public sealed class NonFiniteAsNull : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteNullValue();
    }
}
