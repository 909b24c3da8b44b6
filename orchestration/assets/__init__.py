"""Assets by step: ingest (landing -> raw.*), dbt (staging -> marts), quality (GX asset checks), publish."""
