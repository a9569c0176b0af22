using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;

namespace Whetstone.Cookbook.Vision;

/// <summary>The vision-only baseline's features: ImageNet ResNet18 as the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 ships it (its ONNX preprocessing graph, then the
/// network up to global pooling: 512 numbers per image), run with ONNX Runtime. Pictures are
/// fed as ML.NET's pixel extractor does: 224 × 224, planar RGB, values 0–255.</summary>
public sealed class ResNet18Features : IDisposable
{
    public const int Side = 224, Dimensions = 512;
    readonly InferenceSession _preprocess, _network;

    ResNet18Features(string directory)
    {
        var options = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        _preprocess = new InferenceSession(Path.Combine(directory, "ResNetPrepOnnx", "ResNetPreprocess.onnx"), options);
        _network = new InferenceSession(Path.Combine(directory, "ResNet18Onnx", "ResNet18.onnx"), options);
    }

    /// <summary>The models the package copies next to the program (DnnImageModels/), or null
    /// where they are absent (the caller reports that instead of a baseline).</summary>
    public static ResNet18Features? TryLoad()
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
        return File.Exists(Path.Combine(directory, "ResNet18Onnx", "ResNet18.onnx")) ? new ResNet18Features(directory) : null;
    }

    public float[] Of(byte[] png)
    {
        using var decoded = SKBitmap.Decode(png) ?? throw new ArgumentException("not a decodable image", nameof(png));
        using var bitmap = decoded.Width == Side && decoded.Height == Side ? decoded.Copy()
            : decoded.Resize(new SKImageInfo(Side, Side), new SKSamplingOptions(SKFilterMode.Linear));
        var pixels = new DenseTensor<float>([1, 3, Side, Side]);
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
            {
                var c = bitmap.GetPixel(x, y);
                pixels[0, 0, y, x] = c.Red;
                pixels[0, 1, y, x] = c.Green;
                pixels[0, 2, y, x] = c.Blue;
            }
        using var prepared = _preprocess.Run([NamedOnnxValue.CreateFromTensor(_preprocess.InputMetadata.Keys.Single(), pixels)]);
        var input = prepared.First().AsTensor<float>();
        using var pooled = _network.Run([NamedOnnxValue.CreateFromTensor(_network.InputMetadata.Keys.Single(), input)]);
        return pooled.First().AsEnumerable<float>().ToArray();
    }

    public void Dispose()
    {
        _preprocess.Dispose();
        _network.Dispose();
    }
}
