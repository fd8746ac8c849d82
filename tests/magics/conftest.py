"""The corpus files are parsed by test_corpus.py and never collected as .http tests."""

collect_ignore = ["corpus"]
