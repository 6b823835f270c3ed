"""Answers: the extractive composer, follow-up rewriting, citations and catalogue answers."""
