"""Billy's web page (`billy web`): set him up, watch him think, test his body, behind a password."""
