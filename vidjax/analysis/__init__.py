"""Looking at data before training on it: --mode=analyze (dataset_report.py) and its parts."""
