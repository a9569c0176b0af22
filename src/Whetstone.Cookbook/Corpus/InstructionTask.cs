using Whetstone.Chat;

namespace Whetstone.Cookbook.Corpus;

/// <summary>Simple instructions with one right answer: reverse a list, sort numbers, count a
/// letter, copy a field from a record.</summary>
public static class InstructionTask
{
    public const string Name = "instruction";
    static readonly string[] Words = ["apple", "river", "stone", "cloud", "lamp", "tiger", "bread", "violin", "garden", "mirror", "candle", "forest"];
    static readonly string[] Fields = ["name", "city", "color", "pet"];
    static readonly string[] Values = ["Mira", "Oslo", "green", "cat", "Tomas", "Lima", "blue", "dog", "Ana", "Kyoto", "red", "owl"];

    public static ChatExample Generate(Random random)
    {
        switch (random.Next(4))
        {
            case 0:
            {
                var items = Pick(random, Words, random.Next(3, 6));
                var answer = string.Join(", ", items.Reverse());
                return Example($"Reverse this list: {string.Join(", ", items)}", answer);
            }
            case 1:
            {
                var numbers = Enumerable.Range(0, random.Next(3, 7)).Select(_ => random.Next(100)).ToArray();
                return Example($"Sort these numbers from smallest to largest: {string.Join(" ", numbers)}", string.Join(" ", numbers.Order()));
            }
            case 2:
            {
                var word = Words[random.Next(Words.Length)] + Words[random.Next(Words.Length)];
                char letter = word[random.Next(word.Length)];
                return Example($"How many times does the letter '{letter}' appear in \"{word}\"?", word.Count(c => c == letter).ToString());
            }
            default:
            {
                var fields = Pick(random, Fields, 3);
                var record = fields.Select(f => (Field: f, Value: Values[random.Next(Values.Length)])).ToArray();
                var asked = record[random.Next(record.Length)];
                return Example($"Record: {string.Join("; ", record.Select(r => $"{r.Field}: {r.Value}"))}. What is the {asked.Field}?", asked.Value);
            }
        }
    }

    static ChatExample Example(string question, string answer) =>
        new(Name, [ChatMessage.User(question), ChatMessage.Assistant($"Answer: {answer}")], answer);

    static string[] Pick(Random random, string[] from, int count) => from.OrderBy(_ => random.Next()).Take(count).ToArray();
}
