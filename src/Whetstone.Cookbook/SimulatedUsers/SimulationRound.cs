#pragma warning disable OPENAI001 // Seed is marked experimental in the OpenAI package
using System.Globalization;
using OpenAI;
using OpenAI.Chat;
using Whetstone.Client;

namespace Whetstone.Cookbook.SimulatedUsers;

/// <summary>One answer a simulated user got: what they asked, the text, its hidden satisfaction,
/// which served completion it was (for feedback) and how many feedback events they gave.</summary>
public sealed record SimulatedAnswer(string User, string Question, string Answer, double Satisfaction, string CompletionId, int FeedbackEvents);

/// <summary>Drives a real server as the population: each user asks its own kind of question through
/// the official OpenAI .NET client (chat completions on name@latest, `user` = their id, so a canary
/// split gives each user one arm), and gives feedback through the Whetstone SDK at their own rates,
/// acting on their hidden satisfaction plus noise: thumbs (up when it feels above 0.5), a rating
/// 1–5, a correction (their ideal answer) when it feels poor, a pairwise preference between this
/// answer and a second one drawn for the same question.</summary>
public sealed class SimulationRound(OpenAIClient openAi, ServiceClient whetstone, int maxTokens = 64, double temperature = 0.7)
{
    public async Task<IReadOnlyList<SimulatedAnswer>> RunAsync(SimulatedPopulation population, string model, int round, bool giveFeedback,
        CancellationToken cancellationToken = default)
    {
        var chat = openAi.GetChatClient(model);
        var answers = new List<SimulatedAnswer>();
        foreach (var user in population.Users)
        {
            var random = new Random(HashCode.Combine(user.Id, round));
            var question = UserQuestion.Draw(user.Preferences.Topic, random);
            var (id, text) = await AskAsync(chat, user, question, random.Next(), cancellationToken);
            double satisfaction = user.Satisfaction(question, text);
            int events = giveFeedback ? await FeedbackAsync(chat, user, question, id, satisfaction, random, cancellationToken) : 0;
            answers.Add(new SimulatedAnswer(user.Id, question.Text, text, satisfaction, id, events));
        }
        return answers;
    }

    async Task<(string Id, string Text)> AskAsync(ChatClient chat, SimulatedUser user, UserQuestion question, int seed, CancellationToken cancellationToken)
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = maxTokens, Temperature = (float)temperature, EndUserId = user.Id, Seed = seed };
        ChatCompletion completion = (await chat.CompleteChatAsync([new UserChatMessage(question.Text)], options, cancellationToken)).Value;
        return (completion.Id, completion.Content.Count > 0 ? completion.Content[0].Text : "");
    }

    async Task<int> FeedbackAsync(ChatClient chat, SimulatedUser user, UserQuestion question, string id, double satisfaction, Random random,
        CancellationToken cancellationToken)
    {
        var habits = user.Habits;
        double felt = Math.Clamp(satisfaction + habits.Noise * Gaussian(random), 0, 1);
        int events = 0;
        if (random.NextDouble() < habits.Thumbs)
        {
            if (felt > 0.5) await whetstone.Feedback.ThumbsUpAsync(id, cancellationToken: cancellationToken);
            else await whetstone.Feedback.ThumbsDownAsync(id, cancellationToken: cancellationToken);
            events++;
        }
        if (random.NextDouble() < habits.Rating)
        {
            await whetstone.Feedback.RateAsync(id, Math.Round(1 + 4 * felt), cancellationToken: cancellationToken);
            events++;
        }
        if (felt < 0.4 && random.NextDouble() < habits.Correction)
        {
            await whetstone.Feedback.CorrectAsync(id, user.IdealAnswer(question), cancellationToken: cancellationToken);
            events++;
        }
        if (random.NextDouble() < habits.Preference)
        {
            var (otherId, otherText) = await AskAsync(chat, user, question, random.Next(), cancellationToken);
            double otherFelt = Math.Clamp(user.Satisfaction(question, otherText) + habits.Noise * Gaussian(random), 0, 1);
            if (Math.Abs(otherFelt - felt) > 1e-9)
            {
                if (otherFelt > felt) await whetstone.Feedback.PreferAsync(otherId, id, cancellationToken: cancellationToken);
                else await whetstone.Feedback.PreferAsync(id, otherId, cancellationToken: cancellationToken);
                events++;
            }
        }
        return events;
    }

    static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    public static string Format(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}
