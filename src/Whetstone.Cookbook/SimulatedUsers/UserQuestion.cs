namespace Whetstone.Cookbook.SimulatedUsers;

/// <summary>A question a simulated user asks, with the answer they know to be right.</summary>
public sealed record UserQuestion(string Text, string Expected)
{
    /// <summary>A question of the user's topic: "addition" or "subtraction" of 2–3-digit numbers.</summary>
    public static UserQuestion Draw(string topic, Random random)
    {
        int digits = random.Next(2, 4), max = (int)Math.Pow(10, digits);
        int a = random.Next(max / 10, max), b = random.Next(max / 10, max);
        if (topic == "subtraction")
        {
            if (b > a) (a, b) = (b, a);
            return new UserQuestion($"What is {a} - {b}?", (a - b).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return new UserQuestion($"What is {a} + {b}?", (a + b).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
