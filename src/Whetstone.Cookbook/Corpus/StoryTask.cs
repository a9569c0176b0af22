using Whetstone.Chat;

namespace Whetstone.Cookbook.Corpus;

/// <summary>Short stories and world facts from a small grammar (language for pretraining), and
/// reading comprehension: facts stated in a context, then a question about one of them — the
/// skill the memory work needs.</summary>
public static class StoryTask
{
    public const string StoryName = "story";
    public const string ReadingName = "reading";
    static readonly string[] People = ["Mira", "Tomas", "Ana", "Kenji", "Lena", "Omar", "Sofia", "Ravi"];
    static readonly string[] Places = ["Oslo", "Lima", "Kyoto", "Cairo", "Quito", "Perth", "Riga", "Accra"];
    static readonly string[] Things = ["a red kite", "an old map", "a silver key", "a blue bicycle", "a small boat", "a brass bell"];
    static readonly string[] Feelings = ["happy", "curious", "tired", "brave", "calm"];

    public static ChatExample Story(Random random)
    {
        string person = Pick(random, People), place = Pick(random, Places), thing = Pick(random, Things), feeling = Pick(random, Feelings);
        string story = $"{person} lived in {place}. One morning {person} found {thing} near the market. "
            + $"{person} felt {feeling} and showed it to a friend. By evening the whole street knew about {thing}.";
        return new ChatExample(StoryName, [ChatMessage.User($"Tell a short story about {person}."), ChatMessage.Assistant(story)], story);
    }

    public static ChatExample Reading(Random random)
    {
        var people = People.OrderBy(_ => random.Next()).Take(3).ToArray();
        var places = Places.OrderBy(_ => random.Next()).Take(3).ToArray();
        var things = Things.OrderBy(_ => random.Next()).Take(3).ToArray();
        var facts = Enumerable.Range(0, 3).Select(i => $"{people[i]} lives in {places[i]} and owns {things[i]}.").ToArray();
        int asked = random.Next(3);
        bool askPlace = random.Next(2) == 0;
        string question = askPlace ? $"Where does {people[asked]} live?" : $"What does {people[asked]} own?";
        string answer = askPlace ? places[asked] : things[asked];
        return new ChatExample(ReadingName,
            [ChatMessage.User($"{string.Join(" ", facts)}\n\nQuestion: {question}"), ChatMessage.Assistant($"Answer: {answer}")], answer);
    }

    static string Pick(Random random, string[] from) => from[random.Next(from.Length)];
}
