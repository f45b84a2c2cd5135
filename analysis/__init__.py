"""Plans and targets, evaluation, coverage, gaps and reports."""
