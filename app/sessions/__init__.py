"""Live sessions, join codes, participants, consent."""
