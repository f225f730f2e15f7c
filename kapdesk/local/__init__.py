"""This laptop: where the record and logs live, settings, passphrases, the clock, demo data."""
