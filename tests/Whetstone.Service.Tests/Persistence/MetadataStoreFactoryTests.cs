using Npgsql;
using Whetstone.Service.Persistence;

namespace Whetstone.Service.Tests.Persistence;

public sealed class MetadataStoreFactoryTests
{
    private const string DataDirectory = "/data/whet";

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sqlite")]
    [InlineData("SQLite")]
    public void DefaultIsWhetstoneDbInTheDataDirectory(string? db)
    {
        var store = Assert.IsType<SqliteMetadataStore>(MetadataStoreFactory.Create(db, DataDirectory));
        Assert.Equal("/data/whet/whetstone.db", store.DatabasePath);
    }

    [Theory]
    [InlineData("sqlite:/var/lib/meta.sqlite", "/var/lib/meta.sqlite")]
    [InlineData("/srv/whet/meta.db", "/srv/whet/meta.db")]
    public void SqlitePathIsThatFile(string db, string expectedPath) =>
        Assert.Equal(expectedPath, Assert.IsType<SqliteMetadataStore>(MetadataStoreFactory.Create(db, DataDirectory)).DatabasePath);

    [Theory]
    [InlineData("postgres://whet:s3cret@db.internal:6543/whetstone")]
    [InlineData("postgresql://whet:s3cret@db.internal/whetstone?sslmode=require")]
    [InlineData("Host=db.internal;Username=whet;Password=s3cret;Database=whetstone")]
    public void PostgresSettingsGivePostgresStore(string db) =>
        Assert.IsType<PostgresMetadataStore>(MetadataStoreFactory.Create(db, DataDirectory));

    [Fact]
    public void PostgresUriBecomesNpgsqlKeywords()
    {
        var converted = new NpgsqlConnectionStringBuilder(
            PostgresConnectionString.FromUri("postgresql://whet%40corp:p%3Ass@db.internal:6543/whet_prod?sslmode=require&application_name=whetstone"));
        Assert.Equal("db.internal", converted.Host);
        Assert.Equal(6543, converted.Port);
        Assert.Equal("whet@corp", converted.Username);
        Assert.Equal("p:ss", converted.Password);
        Assert.Equal("whet_prod", converted.Database);
        Assert.Equal(SslMode.Require, converted.SslMode);
        Assert.Equal("whetstone", converted.ApplicationName);
    }

    [Theory]
    [InlineData("mysql://root@localhost/whet")]
    [InlineData("whetstone")]
    [InlineData("sqlite:")]
    [InlineData("postgres://whet:pw@db/whet?no_such_option=1")]
    public void UnknownSettingIsAClearError(string db)
    {
        var error = Assert.Throws<ArgumentException>(() => MetadataStoreFactory.Create(db, DataDirectory));
        Assert.NotEmpty(error.Message);
        Assert.DoesNotContain(":pw@", error.Message); // passwords never reach the logs
    }
}
