"""The four zeroclear services; each owns its folder, its schema and its HTTP app."""
