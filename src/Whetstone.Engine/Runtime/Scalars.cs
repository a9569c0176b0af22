using TorchSharp;
using static TorchSharp.torch;

namespace Whetstone.Engine.Runtime;

/// <summary>Constant scalar operands of the per-step and per-token tensor code, made once and
/// rooted here for the life of the process. Why not a literal (x.pow(2), masked_fill(m, 0.0)):
/// the implicit conversion makes a Scalar that nothing references once its native handle is
/// read, so a GC during the native call can run its finalizer and free it mid-op (TorchSharp
/// 0.107 does not keep its Scalar arguments alive across its P/Invokes; the load test once saw
/// it corrupt an optimizer step, see AdamW.Apply). Operands that vary per call are explicit
/// Scalars held with `using` until the op has run. A native Scalar is read-only, so one
/// instance serves every thread.</summary>
internal static class Scalars
{
    public static readonly Scalar Zero = 0.ToScalar();
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar Two = 2.ToScalar();
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();
}
