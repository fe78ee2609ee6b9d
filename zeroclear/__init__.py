"""The zeroclear command line and the embedded runner that hosts all four services."""
