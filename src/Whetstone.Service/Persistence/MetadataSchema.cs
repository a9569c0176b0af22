namespace Whetstone.Service.Persistence;

/// <summary>The metadata schema as numbered migrations; <see cref="SqlMetadataStore.InitializeAsync"/>
/// applies those above the version recorded in <c>schema_version</c>. Add a new migration at the
/// end; never edit one that has shipped. The DDL is shared by SQLite and PostgreSQL: only
/// <c>{timestamp}</c> differs (SQLite: integer microseconds since the Unix epoch; PostgreSQL:
/// timestamptz). Both store microseconds, so instants round-trip exactly to the microsecond and
/// compare correctly in SQL.</summary>
internal static class MetadataSchema
{
    internal sealed record Migration(long Version, IReadOnlyList<string> Statements);

    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1,
        [
            """
            CREATE TABLE IF NOT EXISTS api_keys (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                name TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                is_admin BOOLEAN NOT NULL,
                created_at {timestamp} NOT NULL,
                revoked_at {timestamp})
            """,
            """
            CREATE TABLE IF NOT EXISTS runs (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                base_model TEXT NOT NULL,
                created_at {timestamp} NOT NULL,
                full_fine_tuning BOOLEAN NOT NULL,
                lora_config_json TEXT,
                user_metadata_json TEXT,
                step BIGINT NOT NULL,
                last_request_at {timestamp},
                last_checkpoint TEXT,
                last_sampler_checkpoint TEXT)
            """,
            "CREATE INDEX IF NOT EXISTS runs_by_tenant ON runs (tenant, created_at)",
            """
            CREATE TABLE IF NOT EXISTS checkpoints (
                path TEXT PRIMARY KEY,
                run_id TEXT NOT NULL,
                tenant TEXT NOT NULL,
                kind TEXT NOT NULL,
                name TEXT NOT NULL,
                directory TEXT NOT NULL,
                created_at {timestamp} NOT NULL,
                published BOOLEAN NOT NULL,
                expires_at {timestamp},
                size_bytes BIGINT NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS checkpoints_by_run ON checkpoints (run_id, created_at)",
            "CREATE INDEX IF NOT EXISTS checkpoints_by_expiry ON checkpoints (expires_at)",
            """
            CREATE TABLE IF NOT EXISTS requests (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                run_id TEXT,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                submitted_at {timestamp} NOT NULL,
                completed_at {timestamp},
                error TEXT)
            """,
            """
            CREATE TABLE IF NOT EXISTS run_usage (
                run_id TEXT PRIMARY KEY,
                prefill_tokens BIGINT NOT NULL,
                sampled_tokens BIGINT NOT NULL,
                trained_tokens BIGINT NOT NULL,
                compute_seconds DOUBLE PRECISION NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS api_key_usage (
                api_key_id TEXT PRIMARY KEY,
                prefill_tokens BIGINT NOT NULL,
                sampled_tokens BIGINT NOT NULL,
                trained_tokens BIGINT NOT NULL,
                compute_seconds DOUBLE PRECISION NOT NULL)
            """,
        ]),
        new(2,
        [
            """
            CREATE TABLE IF NOT EXISTS served_completions (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                model TEXT NOT NULL,
                base_model TEXT NOT NULL,
                checkpoint_path TEXT,
                deployment TEXT,
                end_user TEXT,
                created_at {timestamp} NOT NULL,
                request_json TEXT NOT NULL,
                prompt_tokens_json TEXT NOT NULL,
                choices_json TEXT NOT NULL,
                params_json TEXT NOT NULL,
                latency_seconds DOUBLE PRECISION NOT NULL,
                ttft_seconds DOUBLE PRECISION)
            """,
            "CREATE INDEX IF NOT EXISTS served_completions_by_tenant ON served_completions (tenant, created_at, id)",
            """
            CREATE TABLE IF NOT EXISTS feedback (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                completion_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                choice_index INTEGER NOT NULL,
                rating DOUBLE PRECISION,
                correction TEXT,
                rejected_completion_id TEXT,
                comment TEXT,
                created_at {timestamp} NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS feedback_by_tenant ON feedback (tenant, created_at, id)",
            """
            CREATE TABLE IF NOT EXISTS deployments (
                tenant TEXT NOT NULL,
                name TEXT NOT NULL,
                created_at {timestamp} NOT NULL,
                current_version INTEGER NOT NULL,
                PRIMARY KEY (tenant, name))
            """,
            """
            CREATE TABLE IF NOT EXISTS deployment_versions (
                tenant TEXT NOT NULL,
                name TEXT NOT NULL,
                version INTEGER NOT NULL,
                checkpoint_path TEXT NOT NULL,
                created_at {timestamp} NOT NULL,
                PRIMARY KEY (tenant, name, version))
            """,
        ]),
        new(3,
        [
            """
            CREATE TABLE IF NOT EXISTS memories (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                base_model TEXT NOT NULL,
                budget_tokens INTEGER NOT NULL,
                seed INTEGER NOT NULL,
                turn INTEGER NOT NULL,
                created_at {timestamp} NOT NULL,
                updated_at {timestamp} NOT NULL,
                state_json TEXT NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS memory_operations (
                memory_id TEXT NOT NULL,
                sequence BIGINT NOT NULL,
                turn INTEGER NOT NULL,
                operation TEXT NOT NULL,
                span_id TEXT,
                detail TEXT NOT NULL,
                at {timestamp} NOT NULL,
                PRIMARY KEY (memory_id, sequence))
            """,
        ]),
        // Streaming reward models of deployments (Experience/RewardModels).
        new(4,
        [
            """
            CREATE TABLE IF NOT EXISTS reward_models (
                tenant TEXT NOT NULL,
                deployment TEXT NOT NULL,
                run_id TEXT NOT NULL,
                base_model TEXT NOT NULL,
                config_json TEXT NOT NULL,
                created_at {timestamp} NOT NULL,
                version INTEGER NOT NULL,
                cursor_id TEXT,
                events_seen BIGINT NOT NULL,
                PRIMARY KEY (tenant, deployment))
            """,
            """
            CREATE TABLE IF NOT EXISTS reward_model_versions (
                tenant TEXT NOT NULL,
                deployment TEXT NOT NULL,
                version INTEGER NOT NULL,
                state_path TEXT NOT NULL,
                created_at {timestamp} NOT NULL,
                feedback_ids_json TEXT NOT NULL,
                replay_ids_json TEXT NOT NULL,
                metrics_json TEXT NOT NULL,
                PRIMARY KEY (tenant, deployment, version))
            """,
            """
            CREATE TABLE IF NOT EXISTS reward_model_predictions (
                tenant TEXT NOT NULL,
                deployment TEXT NOT NULL,
                feedback_id TEXT NOT NULL,
                predicted_by INTEGER NOT NULL,
                kind TEXT NOT NULL,
                margin DOUBLE PRECISION NOT NULL,
                correct BOOLEAN NOT NULL,
                created_at {timestamp} NOT NULL,
                PRIMARY KEY (tenant, deployment, feedback_id))
            """,
        ]),
        // 5: canary traffic splits on deployments, and which arm of a split answered each request.
        new(5,
        [
            "ALTER TABLE deployments ADD COLUMN candidate_version INTEGER",
            "ALTER TABLE deployments ADD COLUMN candidate_percent DOUBLE PRECISION",
            "ALTER TABLE served_completions ADD COLUMN arm TEXT",
        ]),
        // 6: experiential loops and their iterations (the lineage). A loop's state, iteration and
        // feedback cursor change together in one transaction with its iteration rows.
        new(6,
        [
            """
            CREATE TABLE IF NOT EXISTS loops (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                deployment TEXT NOT NULL,
                spec_json TEXT NOT NULL,
                status TEXT NOT NULL,
                state TEXT NOT NULL,
                iteration INTEGER NOT NULL,
                feedback_cursor TEXT,
                feedback_consumed BIGINT NOT NULL,
                last_iteration_at {timestamp},
                created_at {timestamp} NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS loops_by_tenant ON loops (tenant, created_at)",
            """
            CREATE TABLE IF NOT EXISTS loop_iterations (
                loop_id TEXT NOT NULL,
                iteration INTEGER NOT NULL,
                stage TEXT NOT NULL,
                started_at {timestamp} NOT NULL,
                window_end TEXT,
                feedback_ids_json TEXT NOT NULL,
                deployed_version INTEGER NOT NULL,
                rm_version TEXT,
                candidate_run TEXT,
                policy_checkpoint TEXT,
                deployment_version INTEGER,
                outcome TEXT,
                reason TEXT,
                metrics_json TEXT,
                finished_at {timestamp},
                PRIMARY KEY (loop_id, iteration))
            """,
        ]),
        // 7: SDK sessions (Tinker's list_sessions / get_session) and what each started, in order.
        new(7,
        [
            """
            CREATE TABLE IF NOT EXISTS client_sessions (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                user_metadata_json TEXT,
                created_at {timestamp} NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS client_sessions_by_tenant ON client_sessions (tenant, created_at)",
            """
            CREATE TABLE IF NOT EXISTS client_session_members (
                session_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                member_id TEXT NOT NULL,
                created_at {timestamp} NOT NULL,
                PRIMARY KEY (session_id, kind, member_id))
            """,
        ]),
    ];
}
