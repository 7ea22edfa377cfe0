"""The run store: every run of every batch in one DuckDB file, written so that nothing finished is
ever lost (schema and migrations, the writer's lock, :class:`RunStore`)."""
