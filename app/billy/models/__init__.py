"""Model catalogue and verified fetching of model files."""
