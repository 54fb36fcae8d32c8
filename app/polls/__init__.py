"""Questions, answers, the current question of a session, results."""
