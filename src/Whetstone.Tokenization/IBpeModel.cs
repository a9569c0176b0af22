namespace Whetstone.Tokenization;

/// <summary>
/// The model step of a byte-level tokenizer: one pre-token, spelled in byte-level characters
/// (<see cref="ByteLevelAlphabet"/>), to vocabulary ids. Hugging Face's merge-list BPE
/// (<see cref="ByteLevelBpe"/>) and tiktoken's rank BPE (<see cref="TiktokenBpe"/>) both fit.
/// </summary>
internal interface IBpeModel
{
    /// <summary>Every vocabulary entry, spelled in byte-level characters, with its id.</summary>
    IReadOnlyDictionary<string, int> Vocabulary { get; }

    /// <summary>Appends the ids of one pre-token given in byte-level characters.</summary>
    void Encode(string word, List<int> ids);
}
