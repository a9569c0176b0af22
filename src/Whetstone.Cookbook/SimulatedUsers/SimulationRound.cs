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
/// acting on their hidden satisfaction plus noise: thumbs (up when it feels at least
/// <see cref="Satisfied"/>), a rating 1–5, a correction (their ideal answer) when it feels below
/// that, a pairwise preference between this answer and a second one drawn for the same question.
/// With statePreferences each user also sends their stated taste as a system message
/// (<see cref="UserPreferences.Statement"/>), so one policy could answer each in their own way.</summary>
public sealed class SimulationRound(OpenAIClient openAi, ServiceClient whetstone, int maxTokens = 64, double temperature = 0.7, bool statePreferences = false,
    bool editCorrections = false)
{
    /// <summary>The felt satisfaction a user is content with. At 0.5 a right answer in the wrong
    /// length or with the disliked phrase (0.6–0.75) still got a thumbs up and never a correction, so
    /// the feedback carried correctness only and no learner could see the users' other preferences.</summary>
    public const double Satisfied = 0.7;

    /// <summary>Every user of the population asks once (all at once: the server batches them), in
    /// the population's order; each user's randomness is its own, seeded by its id and the round.</summary>
    public async Task<IReadOnlyList<SimulatedAnswer>> RunAsync(SimulatedPopulation population, string model, int round, bool giveFeedback,
        CancellationToken cancellationToken = default)
    {
        var chat = openAi.GetChatClient(model);
        return await Task.WhenAll(population.Users.Select(async user =>
        {
            var random = new Random(StableSeed(user.Id, round));
            var question = UserQuestion.Draw(user.Preferences.Topic, random);
            var (id, text) = await AskAsync(chat, user, question, random.Next(), cancellationToken);
            double satisfaction = user.Satisfaction(question, text);
            int events = giveFeedback ? await FeedbackAsync(chat, user, question, id, text, satisfaction, random, cancellationToken) : 0;
            return new SimulatedAnswer(user.Id, question.Text, text, satisfaction, id, events);
        }));
    }

    async Task<(string Id, string Text)> AskAsync(ChatClient chat, SimulatedUser user, UserQuestion question, int seed, CancellationToken cancellationToken)
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = maxTokens, Temperature = (float)temperature, EndUserId = user.Id, Seed = seed };
        ChatMessage[] messages = statePreferences
            ? [new SystemChatMessage(user.Preferences.Statement()), new UserChatMessage(question.Text)]
            : [new UserChatMessage(question.Text)];
        ChatCompletion completion = (await chat.CompleteChatAsync(messages, options, cancellationToken)).Value;
        return (completion.Id, completion.Content.Count > 0 ? completion.Content[0].Text : "");
    }

    async Task<int> FeedbackAsync(ChatClient chat, SimulatedUser user, UserQuestion question, string id, string answer, double satisfaction, Random random,
        CancellationToken cancellationToken)
    {
        var habits = user.Habits;
        double felt = Math.Clamp(satisfaction + habits.Noise * Gaussian(random), 0, 1);
        int events = 0;
        if (random.NextDouble() < habits.Thumbs)
        {
            if (felt >= Satisfied) await whetstone.Feedback.ThumbsUpAsync(id, cancellationToken: cancellationToken);
            else await whetstone.Feedback.ThumbsDownAsync(id, cancellationToken: cancellationToken);
            events++;
        }
        if (random.NextDouble() < habits.Rating)
        {
            await whetstone.Feedback.RateAsync(id, Math.Round(1 + 4 * felt), cancellationToken: cancellationToken);
            events++;
        }
        if (felt < Satisfied && random.NextDouble() < habits.Correction)
        {
            // With editCorrections the user post-edits the answer (SimulatedUser.EditedAnswer) instead of writing their ideal one.
            await whetstone.Feedback.CorrectAsync(id, editCorrections ? user.EditedAnswer(question, answer) : user.IdealAnswer(question), cancellationToken: cancellationToken);
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

    /// <summary>A seed from the user's id and the round that is the same in every process
    /// (string.GetHashCode, and so HashCode.Combine of a string, is randomized per process: the same
    /// --seed drew other questions in every run).</summary>
    public static int StableSeed(string user, int round)
    {
        uint hash = 2166136261;
        foreach (char c in user) hash = (hash ^ c) * 16777619;
        hash = (hash ^ (uint)round) * 16777619;
        return (int)(hash & int.MaxValue);
    }

    static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    public static string Format(double value) => value.ToString("F3", CultureInfo.InvariantCulture);
}
