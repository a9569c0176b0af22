using Whetstone.Client;

namespace Whetstone.Cookbook.Vision;

/// <summary>The few-shot comparison (#17): for each N and seed, the VLM fine-tuned with LoRA on
/// the N shots per class (classification as generation: it answers the class name) against
/// ImageNet ResNet18 features with a nearest-centroid and a logistic-regression head trained on
/// the same shots. N = 0 is the VLM zero-shot (the baseline heads need a shot per class). The
/// VLM arm goes through the SDK only; the baseline runs locally on ONNX Runtime.</summary>
public static class FewShotRecipe
{
    public static async Task<IReadOnlyList<FewShotPoint>> RunAsync(ServiceClient client, ImageChat chat, ResNet18Features? resnet,
        FewShotVlmOptions vlm, IReadOnlyList<int> shotCounts, int seeds, int testPerClass, Action<FewShotPoint> report,
        CancellationToken cancellationToken = default)
    {
        var test = FewShotTask.Test(testPerClass);
        var features = new Dictionary<int, float[]>();
        float[] Features(LabelledScene s) => features.TryGetValue(s.Seed, out var f) ? f : features[s.Seed] = resnet!.Of(s.Png(ResNet18Features.Side));
        int Label(LabelledScene s) => FewShotTask.Classes.ToList().IndexOf(s.Label);
        var points = new List<FewShotPoint>();
        void Add(FewShotPoint p) { points.Add(p); report(p); }

        foreach (int n in shotCounts)
            for (int seed = 0; seed < (n == 0 ? 1 : seeds); seed++)
            {
                var shots = FewShotTask.Shots(n, seed);
                var labels = test.Select(s => s.Label).ToArray();
                Add(FewShotPoint.Of("vlm-lora", n, seed, await FewShotVlm.AnswersAsync(client, chat, vlm, shots, test, seed, cancellationToken), labels));
                if (resnet is null || n == 0) continue;
                var x = shots.Select(Features).ToArray();
                var y = shots.Select(Label).ToArray();
                var heads = new (string Arm, Func<float[], int> Classify)[]
                {
                    ("resnet18-centroid", FeatureHeads.NearestCentroid(x, y, FewShotTask.Classes.Count)),
                    ("resnet18-logistic", FeatureHeads.Logistic(x, y, FewShotTask.Classes.Count)),
                };
                foreach (var (arm, classify) in heads)
                    Add(FewShotPoint.Of(arm, n, seed, test.Select(s => FewShotTask.Classes[classify(Features(s))]).ToArray(), labels));
            }
        return points;
    }
}
