"""Settings: base.py holds everything (env-driven); dev, test and prod adjust it."""
