"""What runs write for people: one evaluation's files (eval_files), plots, and the report over many runs (runs)."""
