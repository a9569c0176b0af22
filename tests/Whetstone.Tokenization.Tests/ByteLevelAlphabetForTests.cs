namespace Whetstone.Tokenization.Tests;

/// <summary>GPT-2's bytes_to_unicode written out independently, so hand-written test files do not borrow the code under test.</summary>
internal static class ByteLevelAlphabetForTests
{
    private static bool Printable(int b) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);

    public static readonly byte[] BytesInVocabularyOrder =
        Enumerable.Range(0, 256).Where(Printable).Concat(Enumerable.Range(0, 256).Where(b => !Printable(b))).Select(b => (byte)b).ToArray();

    public static char CharOf(byte b) =>
        Printable(b) ? (char)b : (char)(256 + Enumerable.Range(0, b).Count(x => !Printable(x)));
}
