"""Billy's settings: what each one is (the schema), how values are read and checked, local overrides on the Pi,
the original project's names, and moving an original install in."""
