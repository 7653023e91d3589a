"""Shared infrastructure: seeding, atomic I/O, metrics, the trainer loop, tables and provenance."""
