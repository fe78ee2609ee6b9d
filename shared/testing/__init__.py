"""Test fixtures and helpers shipped beside the code they exercise (a pytest plugin)."""
