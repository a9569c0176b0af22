using Whetstone.Cookbook.Vision;
using Whetstone.Protocol;
using Whetstone.Tokenization;

namespace Whetstone.Cookbook.Tests.Vision;

public class ImageChatTests
{
    static readonly Lazy<HuggingFaceTokenizer> Tokenizer = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "whetstone-cookbook-tests", "vision-" + Guid.NewGuid().ToString("N"));
        var merges = ByteLevelBpeTrainer.LearnMerges(SceneQuestions.TokenizerTexts(50, 84), 100, ByteLevelTokenizerStyle.ChatMlVision);
        ByteLevelTokenizerFiles.Write(directory, ByteLevelTokenizerStyle.ChatMlVision, merges);
        return HuggingFaceTokenizer.Load(directory);
    });

    [Fact]
    public void ATrainingChatPlacesThePictureAtItsPadsAndTrainsOnlyTheAnswers()
    {
        var tokenizer = Tokenizer.Value;
        var chat = new ImageChat(tokenizer);
        var scene = ShapeScenes.Shapes(5, 84);
        var datum = chat.Training(scene.Png, 9, [("What colour are the shapes?", "red"), ("How many shapes are there?", "two")]);

        var chunks = datum.ModelInput.Chunks;
        Assert.Equal(3, chunks.Count);
        var image = Assert.IsType<ImageChunk>(chunks[1]);
        Assert.Equal(9, image.ExpectedTokens);
        Assert.Equal(scene.Png, Convert.FromBase64String(image.Data));
        var before = ((EncodedTextChunk)chunks[0]).Tokens;
        Assert.Equal(tokenizer.TokenToId("<|vision_start|>"), before[^1]);
        Assert.Equal(tokenizer.TokenToId("<|vision_end|>"), ((EncodedTextChunk)chunks[2]).Tokens[0]);

        // One target per position read: text tokens plus the 9 image positions.
        var targets = datum.LossFnInputs["target_tokens"].Data;
        var weights = datum.LossFnInputs["weights"].Data;
        int read = datum.ModelInput.TextTokens().Count() + 9;
        Assert.Equal(read, targets.Count);
        Assert.Equal(read, weights.Count);
        // The pads (targets of the positions before them) are never trained.
        int pad = tokenizer.TokenToId("<|image_pad|>")!.Value;
        Assert.All(targets.Select((t, i) => (t, i)).Where(x => (int)x.t == pad), x => Assert.Equal(0, weights[x.i]));
        // What is trained decodes to the two answers, each with its end of turn.
        var trained = targets.Where((_, i) => weights[i] > 0).Select(t => (int)t).ToArray();
        Assert.Equal("red<|im_end|>two<|im_end|>", tokenizer.Decode(trained, skipSpecialTokens: false));
    }

    [Fact]
    public void APromptEndsAtTheAssistantHeaderAndRefusesAChatWithoutAPicture()
    {
        var tokenizer = Tokenizer.Value;
        var chat = new ImageChat(tokenizer);
        var prompt = chat.Prompt(ShapeScenes.Shapes(1, 84).Png, 9, SceneQuestions.Shape);
        var after = ((EncodedTextChunk)prompt.Chunks[2]).Tokens.ToArray();
        Assert.EndsWith("<|im_start|>assistant\n", tokenizer.Decode(after, skipSpecialTokens: false));
        Assert.Equal(9, ImageChat.TokensFor(84));
        Assert.Equal(16, ImageChat.TokensFor(112));
        Assert.Throws<ArgumentException>(() => ImageChat.TokensFor(90));
        Assert.Throws<ArgumentException>(() => chat.Training([1, 2, 3], 9, []));
    }

    [Fact]
    public void QuestionsAnswerWhatTheSceneShows()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var scene = ShapeScenes.Shapes(seed, 84);
            var answers = SceneQuestions.About(scene, new Random(seed)).ToDictionary(q => q.Kind, q => q.Answer);
            Assert.Equal(scene.Shapes[0].Colour, answers["colour"]);
            Assert.Equal(scene.Shapes[0].Kind, answers["shape"]);
            Assert.Equal(new[] { "one", "two", "three" }[scene.Shapes.Count - 1], answers["count"]);
            Assert.Equal(string.Join(", ", scene.Shapes.Select(s => s.Position)), answers["where"]);
            Assert.Equal(scene.Caption, answers["describe"]);
        }
        // The held-out shape words are in the facts (known to the LM) but never drawn in training scenes.
        Assert.All(ShapeScenes.HeldOutKinds, k => Assert.Contains(SceneQuestions.Facts, f => f.Answer == k));
        Assert.DoesNotContain(Enumerable.Range(0, 200).Select(s => ShapeScenes.Shapes(s, 84).Shapes[0].Kind), ShapeScenes.HeldOutKinds.Contains);
    }
    [Fact]
    public void ThePretrainingStreamAsksTextureLetterAndDigitQuestionsOnTheirOwnPictures()
    {
        var tokenizer = Tokenizer.Value;
        var chat = new ImageChat(tokenizer);
        var options = new VlmPretrainOptions { BaseModel = "m", OutputDirectory = "o", QuestionKinds = ["texture", "letter", "digit"], FactEvery = 1000 };
        for (int index = 0; index < 9; index++)
        {
            var datum = VlmPretrainRecipe.Example(chat, options, index);
            string kind = options.QuestionKinds[index % 3];
            var (picture, question) = SceneQuestions.Pattern(kind, index, 84);
            Assert.Equal(picture.Png, Convert.FromBase64String(Assert.IsType<ImageChunk>(datum.ModelInput.Chunks[1]).Data));
            Assert.Contains(question.Question, tokenizer.Decode(((EncodedTextChunk)datum.ModelInput.Chunks[2]).Tokens.ToArray(), skipSpecialTokens: false));
            var targets = datum.LossFnInputs["target_tokens"].Data;
            var weights = datum.LossFnInputs["weights"].Data;
            var trained = targets.Where((_, i) => weights[i] > 0).Select(t => (int)t).ToArray();
            Assert.Equal(question.Answer + "<|im_end|>", tokenizer.Decode(trained, skipSpecialTokens: false));
            Assert.Equal(kind switch { "texture" => picture.Texture, "letter" => picture.Letter.ToString(), _ => picture.Digit.ToString() }, question.Answer);
        }
    }
}
