"""Probes of issue 16: small local pages and CSV wordings that measure judgment with real models."""
