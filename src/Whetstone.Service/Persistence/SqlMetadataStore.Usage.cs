using System.Data.Common;

namespace Whetstone.Service.Persistence;

// Accounting: running totals per run and per API key, added to in SQL so concurrent
// additions never lose an update (no read-modify-write in C#).
public abstract partial class SqlMetadataStore
{
    private const string UsageColumns = "prefill_tokens, sampled_tokens, trained_tokens, compute_seconds";

    public Task AddUsageAsync(string apiKeyId, string? runId, UsageTotals delta, CancellationToken cancellationToken = default)
    {
        var keyStatement = (AddUsageSql("api_key_usage", "api_key_id"), UsageParameters(apiKeyId, delta));
        // Both totals in one transaction, so a crash never counts a call for the key but not the run.
        return runId is null
            ? ExecuteInTransactionAsync(cancellationToken, keyStatement)
            : ExecuteInTransactionAsync(cancellationToken, keyStatement, (AddUsageSql("run_usage", "run_id"), UsageParameters(runId, delta)));
    }

    public Task<UsageTotals> GetRunUsageAsync(string runId, CancellationToken cancellationToken = default) =>
        GetUsageAsync("run_usage", "run_id", runId, cancellationToken);

    public Task<UsageTotals> GetApiKeyUsageAsync(string apiKeyId, CancellationToken cancellationToken = default) =>
        GetUsageAsync("api_key_usage", "api_key_id", apiKeyId, cancellationToken);

    // Table and column names are literals in this file, never caller input.
    private static string AddUsageSql(string table, string keyColumn) =>
        $"""
        INSERT INTO {table} ({keyColumn}, {UsageColumns}) VALUES (@key, @prefill, @sampled, @trained, @compute)
        ON CONFLICT ({keyColumn}) DO UPDATE SET
            prefill_tokens = {table}.prefill_tokens + excluded.prefill_tokens,
            sampled_tokens = {table}.sampled_tokens + excluded.sampled_tokens,
            trained_tokens = {table}.trained_tokens + excluded.trained_tokens,
            compute_seconds = {table}.compute_seconds + excluded.compute_seconds
        """;

    private static (string, object?)[] UsageParameters(string key, UsageTotals delta) =>
    [
        ("@key", key), ("@prefill", delta.PrefillTokens), ("@sampled", delta.SampledTokens),
        ("@trained", delta.TrainedTokens), ("@compute", delta.ComputeSeconds),
    ];

    private async Task<UsageTotals> GetUsageAsync(string table, string keyColumn, string key, CancellationToken cancellationToken) =>
        await QuerySingleAsync($"SELECT {UsageColumns} FROM {table} WHERE {keyColumn} = @key", ReadUsage,
            cancellationToken, ("@key", key)) ?? new UsageTotals();

    private static UsageTotals ReadUsage(DbDataReader reader) => new()
    {
        PrefillTokens = reader.GetInt64(0),
        SampledTokens = reader.GetInt64(1),
        TrainedTokens = reader.GetInt64(2),
        ComputeSeconds = reader.GetDouble(3),
    };
}
