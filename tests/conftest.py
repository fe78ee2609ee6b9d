"""Cross-service tests only: contract tests between services and end-to-end journeys through
HTTP and the broker. Each service's own tests live in services/<name>/tests/."""
