using System.Text;
using Whetstone.Chat;

namespace Whetstone.Cookbook.Corpus;

/// <summary>Multi-digit addition and subtraction worked column by column, ending in
/// "Answer: N" — a skill with a verifiable answer for SFT and RL.</summary>
public static class ArithmeticTask
{
    public const string Name = "arithmetic";

    public static ChatExample Generate(Random random)
    {
        int digits = random.Next(2, 5);
        int max = (int)Math.Pow(10, digits);
        int a = random.Next(max / 10, max), b = random.Next(max / 10, max);
        bool add = random.Next(2) == 0;
        if (!add && b > a) (a, b) = (b, a);
        string question = add ? $"What is {a} + {b}?" : $"What is {a} - {b}?";
        var (steps, result) = add ? Add(a, b) : Subtract(a, b);
        return new ChatExample(Name, [ChatMessage.User(question), ChatMessage.Assistant($"{steps}Answer: {result}")], result.ToString());
    }

    public const string MultiplicationName = "multiplication";

    /// <summary>A 2–4 digit number times a single digit, worked digit by digit with carries — a
    /// skill the pretraining mix leaves out, so SFT has something new to teach.</summary>
    public static ChatExample GenerateMultiplication(Random random)
    {
        int digits = random.Next(2, 5);
        int max = (int)Math.Pow(10, digits);
        int a = random.Next(max / 10, max), b = random.Next(2, 10);
        var steps = new StringBuilder("Multiply digit by digit from the right.\n");
        int carry = 0, place = 1, result = 0, rest = a;
        while (rest > 0 || carry > 0)
        {
            int x = rest % 10, product = x * b + carry;
            steps.Append(carry > 0 ? $"{x} * {b} + {carry} = {product}" : $"{x} * {b} = {product}");
            steps.Append(product >= 10 ? $", write {product % 10} carry {product / 10}.\n" : $", write {product}.\n");
            result += product % 10 * place;
            carry = product / 10;
            rest /= 10; place *= 10;
        }
        return new ChatExample(MultiplicationName, [ChatMessage.User($"What is {a} * {b}?"), ChatMessage.Assistant($"{steps}Answer: {result}")], result.ToString());
    }

    /// <summary>The corpus's worked lines for a + b or a − b (each step ending in '\n', without the
    /// "Answer:" line) and the result.</summary>
    public static (string Steps, int Result) Worked(int a, char op, int b) => op == '+' ? Add(a, b) : Subtract(a, b);

    static (string Steps, int Result) Add(int a, int b)
    {
        var steps = new StringBuilder("Add digit by digit from the right.\n");
        int carry = 0, place = 1, result = 0;
        while (a > 0 || b > 0 || carry > 0)
        {
            int x = a % 10, y = b % 10, sum = x + y + carry;
            steps.Append(carry > 0 ? $"{x} + {y} + {carry} = {sum}" : $"{x} + {y} = {sum}");
            steps.Append(sum >= 10 ? $", write {sum % 10} carry 1.\n" : $", write {sum}.\n");
            result += sum % 10 * place;
            carry = sum / 10;
            a /= 10; b /= 10; place *= 10;
        }
        return (steps.ToString(), result);
    }

    static (string Steps, int Result) Subtract(int a, int b)
    {
        var steps = new StringBuilder("Subtract digit by digit from the right.\n");
        int borrow = 0, place = 1, result = 0;
        while (a > 0)
        {
            int x = a % 10 - borrow, y = b % 10;
            borrow = x < y ? 1 : 0;
            int digit = x + 10 * borrow - y;
            steps.Append(borrow == 1 ? $"{x + 10} - {y} = {digit}, borrow 1.\n" : $"{x} - {y} = {digit}.\n");
            result += digit * place;
            a /= 10; b /= 10; place *= 10;
        }
        return (steps.ToString(), result);
    }

    /// <summary>The number after the last "Answer:" in a completion, if any.</summary>
    public static string? ExtractAnswer(string completion)
    {
        int at = completion.LastIndexOf("Answer:", StringComparison.Ordinal);
        if (at < 0) return null;
        var rest = completion[(at + "Answer:".Length)..].Trim();
        var digits = new string(rest.TakeWhile(c => char.IsDigit(c) || c == '-').ToArray());
        return digits.Length == 0 ? null : digits;
    }
}
