using System.CommandLine;
using Whetstone.Service.Auth;
using Whetstone.Service.Persistence;

namespace Whetstone.Cli.Commands;

/// <summary>`whet keys create|list|revoke`: API keys, managed in the metadata database directly.</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Data directory of the server", DefaultValueFactory = _ => ".data" };
        var db = new Option<string?>("--db") { Description = "Metadata database (as for `whet serve`)" };

        var tenant = new Option<string>("--tenant") { Description = "Tenant that owns what the key creates", Required = true };
        var name = new Option<string>("--name") { Description = "A label for the key", DefaultValueFactory = _ => "" };
        var admin = new Option<bool>("--admin") { Description = "An admin key" };
        var create = new Command("create", "Create an API key; the secret is printed once.") { data, db, tenant, name, admin };
        create.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            await using var store = await OpenAsync(result, data, db);
            var (record, secret) = await AdminKeys.CreateAsync(store, result.GetValue(tenant)!, result.GetValue(name)!, result.GetValue(admin));
            Console.WriteLine($"{record.Id}  tenant {record.Tenant}");
            Console.WriteLine($"secret (shown once): {secret}");
            return 0;
        }));

        var list = new Command("list", "List API keys (never their secrets).") { data, db };
        list.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            await using var store = await OpenAsync(result, data, db);
            foreach (var key in await store.ListApiKeysAsync(ct))
                Console.WriteLine($"{key.Id}  tenant {key.Tenant,-16} {(key.IsAdmin ? "admin " : "")}{(key.RevokedAt is null ? "active" : $"revoked {key.RevokedAt:u}")}  {key.Name}");
            return 0;
        }));

        var id = new Argument<string>("key-id") { Description = "The key's id (from `whet keys list`)" };
        var revoke = new Command("revoke", "Revoke an API key.") { data, db, id };
        revoke.SetAction((result, ct) => CommandErrors.RunAsync(async () =>
        {
            await using var store = await OpenAsync(result, data, db);
            if (!await store.RevokeApiKeyAsync(result.GetValue(id)!, DateTimeOffset.UtcNow, ct))
                return CommandErrors.Fail(CommandErrors.BadArguments, $"no active key '{result.GetValue(id)}'");
            Console.WriteLine("revoked");
            return 0;
        }));

        return new Command("keys", "Manage API keys.") { create, list, revoke };
    }

    static async Task<IMetadataStore> OpenAsync(ParseResult result, Option<string> data, Option<string?> db)
    {
        var store = MetadataStoreFactory.Create(result.GetValue(db), result.GetValue(data)!);
        await store.InitializeAsync();
        return store;
    }
}
