"""Breakout rounds (groups with a board, a prompt and a question) and private messages (issue 10)."""
