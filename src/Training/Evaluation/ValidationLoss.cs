using Streaming.Training.Engine;
using Streaming.Training.Loop;
using static TorchSharp.torch;

namespace Streaming.Training.Evaluation;

/// <summary>Token-weighted mean validation loss of a model on a corpus' validation blocks.</summary>
public static class ValidationLoss
{
    /// <summary>The loss on each corpus that has validation tokens; on the trainer's own thread.</summary>
    public static Dictionary<string, double> Of(ModelTrainer trainer, IEnumerable<string> corpora, ICorpusData data)
    {
        var losses = new Dictionary<string, double>();
        foreach (var corpus in corpora.Distinct())
        {
            double sum = 0, weight = 0;
            foreach (var tokens in data.ValidationBlocks(corpus))
            {
                if (tokens.Length < 2) continue;
                using var scope = NewDisposeScope();
                var (inputs, targets) = BlockBatch.Make(tokens, trainer.ModelConfig, trainer.Device);
                sum += trainer.Evaluate(inputs, targets) * (tokens.Length - 1);
                weight += tokens.Length - 1;
            }
            if (weight > 0) losses[corpus] = sum / weight;
        }
        return losses;
    }
}
