namespace Whetstone.Tokenization.Tests;

/// <summary>Texts that exercise the corners where byte-level BPE implementations disagree.</summary>
internal static class TokenizerCorpus
{
    /// <summary>Compared id for id against Hugging Face's Rust tokenizers.</summary>
    public static readonly string[] Texts =
    [
        "",
        "Hello, world!",
        "The quick brown fox jumps over the lazy dog.",
        "   leading spaces, double  spaces and trailing   ",
        "tabs\tand\t\ttabs\nnewlines\r\n\r\nwindows\n\n\nblank lines\n",
        " \n \t\n  x  \n",
        "I'm sure you're right; they've said we'll see, he'd've done it. I'M SHOUTING, YOU'LL SEE 'S 'T",
        "it’s a “curly” quote — and an en–dash…",
        "Numbers: 1 12 123 1234 12345 1234567890 3.14159 -42 1,000,000 and 007",
        "x=1;y=22;z=333;w=4444;v=55555",
        "Arabic-Indic digits ١٢٣٤ and fullwidth １２３ and superscript ²³",
        "中文：你好，世界！这是一个测试。",
        "日本語のテキストとカタカナ、ひらがな。",
        "한국어 텍스트입니다.",
        "Emoji: 😀👍🏽 👨‍👩‍👧 🇫🇷🇯🇵 ❤️",
        "😀abc and x😀y and 😀😀😀123 and x😀yz 𝐀𝐁c",
        "café naïve résumé Ångström",
        "cafe\u0301 nai\u0308ve re\u0301sume\u0301 A\u030Angstro\u0308m",
        "reordered marks d\u0307\u0323 q\u0307\u0323, angstrom sign \u212B, excluded \u0958, jamo \u1100\u1161\u11A8 and \uAC00\u11A8",
        "ﬁ ligature, ½ fraction, Ⅻ numeral, ǅ titlecase",
        "𝐀𝐁𝐂 bold, 𝒳 script, 𠀀𠀁 extension B, 𝟏𝟐𝟑 bold digits",
        "'ſ long s, İstanbul, ΚΕΛΒΙΝ K, straße",
        "zero\u200Bwidth, non\u00A0breaking, ideographic\u3000space, line\u2028separator",
        "control \u0001\u0007\u007F chars",
        "def f(x):\n    return x**2  # square\n\tif (a && b) { c++; }\n",
        "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa !!!!!!!!!!!!!!!!!!!! ......",
        "the theme of the thesis: there, then, these, those, thereby",
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>",
        "text<|endoftext|>more text<|end_of_text|>",
        "added tokens: <think>why</think> a <mask> b, x  <mask>y, a<rs>   b, WORD and aWORD and WORDs, (WORD).",
        "almost special: <|im_start <|eot_id| |> <||> <|im_end|><|im_end|>",
    ];

    /// <summary>Text the test tokenizers learn their merges from, so BPE merging really happens.</summary>
    public static IEnumerable<string> Training()
    {
        string[] paragraphs =
        [
            "The theory of the thing is that the tokenizer learns the most frequent pairs of bytes. "
                + "Then it merges them, and merges the merged pairs, until there are enough tokens.",
            "I'm here, you're there, they've gone, we'll stay, she'd know, it's fine, don't worry.",
            "Numbers like 2024, 1999, 31415 and 27182 appear in text; prices are $12.50 or €7.",
            "def encode(text):\n    return [vocab[token] for token in tokenize(text)]\n\n"
                + "for i in range(10):\n\tprint(i * i)\n",
            "中文的文本也需要学习。你好你好，世界世界。",
            "café, naïve, résumé, déjà vu, Ångström; emoji 😀😀 and hearts ❤️❤️.",
            "<html><body><p>Hello there, hello again.</p></body></html>",
            // Emoji glued to letters are one pre-token in Hugging Face ([^\r\n\p{L}\p{N}]?\p{L}+ on code
            // points); merges across that boundary catch a pre-tokenizer that splits by UTF-16 unit.
            string.Concat(Enumerable.Repeat("😀abc x😀yz 🎉ok 𝐀𝐁c ", 6)),
        ];
        for (int repeat = 0; repeat < 4; repeat++)
        {
            foreach (string paragraph in paragraphs) yield return paragraph;
        }
    }
}
