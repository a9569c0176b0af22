namespace Whetstone.Engine.Formats.Gguf;

/// <summary>llama.cpp's token attributes as stored in tokenizer.ggml.token_type (gguf-py TokenType).</summary>
public enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    /// <summary>Special added tokens (&lt;|im_end|&gt;): matched whole, not printed by default.</summary>
    Control = 3,
    /// <summary>Added tokens that are not special: matched whole, printed.</summary>
    UserDefined = 4,
    /// <summary>Embedding rows no token uses (vocab_size padding), named [PAD{id}].</summary>
    Unused = 5,
    Byte = 6,
}
