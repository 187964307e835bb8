"""The apps of Acme Corp, one module each."""
