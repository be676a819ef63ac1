"""Quizzes: the GIFT format, grading, the learner quiz pages and the statistics."""
