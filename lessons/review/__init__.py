"""Spaced review: questions a learner got wrong come back when the FSRS scheduler says they are due."""
