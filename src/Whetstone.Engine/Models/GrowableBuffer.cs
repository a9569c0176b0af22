using System.Runtime.InteropServices;

namespace Whetstone.Engine.Models;

/// <summary>An fp32 buffer that grows as needed and is kept, 64-byte aligned for AVX-512 loads:
/// held in a [ThreadStatic] field, it gives the decode kernels their working memory without an
/// allocation per step. Never freed but on growth: one per kernel per thread.</summary>
internal unsafe struct GrowableBuffer
{
    float* _data;
    long _length;

    /// <summary>At least <paramref name="floats"/> floats; earlier contents are not kept on growth.</summary>
    public float* Get(long floats)
    {
        if (_length < floats)
        {
            if (_data is not null) NativeMemory.AlignedFree(_data);
            _data = (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
            _length = floats;
        }
        return _data;
    }
}
